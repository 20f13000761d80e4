"""Program → bmodel: memory placement, the program's byte encoding, the container."""
