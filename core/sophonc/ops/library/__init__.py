"""Built-in op families; importing this package registers them all."""
