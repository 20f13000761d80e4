"""Line-level reading of TPU-MLIR calibration tables: lines in, typed records out.

A table is a run of blocks. It starts in the int8 threshold block; a comment line
naming a block switches to it, as TPU-MLIR's importer does: ``#int4_th`` (4-bit
thresholds), ``#tpu-mlir-fp8`` / ``mqbench-fp8`` (fp8 thresholds), ``#weight_scale``
and ``#weight_scale_fp8`` (per-channel weight scales), ``#asym_op`` and ``#int4_op``
(one op name a line). ``# symmetric_op`` is followed by ``# <name>`` comment lines
that list symmetric ops without leaving the current block. Other comment lines are
ignored, except the header lines, which are reported so the table can say which
model it was made for.

Unlike TPU-MLIR, which skips lines it cannot read, a data line that fits no block
is an error naming its line number. The one exception is the per-tensor scale
lines QAT exporters put among the thresholds (``<name> <count> scales..
<count> zero points..``): TPU-MLIR skips them, and they are reported as such.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sophonc.calibration.table_entry import ENTRY_PATTERN, ScaleLine, TableEntry
from sophonc.errors import SophonError

INT8, INT4, FP8 = "int8", "int4", "fp8"
WEIGHT_SCALE, WEIGHT_SCALE_FP8 = "weight_scale", "weight_scale_fp8"
ASYM_OP, INT4_OP = "asym_op", "int4_op"
THRESHOLD_BLOCKS = (INT8, INT4, FP8)
SCALE_BLOCKS = (WEIGHT_SCALE, WEIGHT_SCALE_FP8)
NAME_BLOCKS = (ASYM_OP, INT4_OP)

_HEADER_PATTERNS = {
    "version": re.compile(r"#\s*mlir version:\s*(.*?)(?:\s+cali version\s+\S+)?\s*"),
    "mlir_file": re.compile(r"#\s*mlir:\s*(.*?)\s*"),
    "generated": re.compile(r"#\s*gene(?:ta|ra)ted time:\s*(.*?)\s*"),
    "method": re.compile(r"#\s*quantization threshold calculation method:\s*(.*?)\s*"),
    "histogram_bins": re.compile(r"#\s*histogram number:\s*(\d+)\s*"),
    "sample_count": re.compile(r"#\s*sample number:\s*(\d+)\s*"),
    "tune_count": re.compile(r"#\s*tune number:\s*(\d+)\s*"),
}
_SYMMETRIC_MARK = re.compile(r"#\s*symmetric_op\s*")
_SYMMETRIC_NAME = re.compile(r"#\s*(\S+)\s*")
_FORMS = {
    **dict.fromkeys(THRESHOLD_BLOCKS, "'<name> <threshold> <min> <max>'"),
    **dict.fromkeys(SCALE_BLOCKS, "'<name> <count> <scale> ...'"),
    **dict.fromkeys(NAME_BLOCKS, "one op name"),
}


@dataclass(frozen=True)
class Record:
    """One meaningful line: its kind, block, name and payload, and its 1-based line number."""

    kind: str  # "header", "entry", "scale", "name" or "symmetric"
    block: str
    name: str
    line: int
    entry: TableEntry | None = None
    scale: ScaleLine | None = None
    value: str = ""


def block_of_comment(line: str) -> str | None:
    """The block a comment line switches to, or None (TPU-MLIR's keyword checks, in its order)."""
    if "#weight_scale_fp8" in line:
        return WEIGHT_SCALE_FP8
    if "#weight_scale" in line:
        return WEIGHT_SCALE
    if "#int4_th" in line:
        return INT4
    if "#tpu-mlir-fp8" in line or "mqbench-fp8" in line:
        return FP8
    if re.match(r"#\s*asym_op\b", line):
        return ASYM_OP
    if re.match(r"#\s*int4_op\b", line):
        return INT4_OP
    return None


def _header(line: str, number: int, block: str) -> Record | None:
    for key, pattern in _HEADER_PATTERNS.items():
        match = pattern.fullmatch(line)
        if match:
            return Record("header", block, key, number, value=match.group(1))
    return None


def _data(line: str, number: int, block: str, source: str) -> Record:
    tokens = line.split()
    name = tokens[0]
    if block in THRESHOLD_BLOCKS and ENTRY_PATTERN.fullmatch(line):
        try:
            entry = TableEntry(*(float(token) for token in tokens[1:]))
        except ValueError:
            pass
        else:
            return Record("entry", block, name, number, entry=entry)
    if block in THRESHOLD_BLOCKS or block in SCALE_BLOCKS:
        scale = ScaleLine(tuple(tokens[1:]))
        if scale.is_valid():
            return Record("scale", block, name, number, scale=scale)
    if block in NAME_BLOCKS and len(tokens) == 1:
        return Record("name", block, name, number)
    shown = line if len(line) <= 60 else line[:57] + "..."
    raise SophonError(
        f"calibration table {source} line {number}: {shown!r} is not {_FORMS[block]}; "
        f"fix or remove that line, or regenerate the table"
    )


def parse_lines(lines: Iterable[str], source: str) -> Iterator[Record]:
    """Records of a table's lines; ``source`` names the file in error messages."""
    block = INT8
    in_symmetric = False
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            switched = block_of_comment(line)
            if switched is not None:
                block, in_symmetric = switched, False
            elif _SYMMETRIC_MARK.fullmatch(line):
                in_symmetric = True
            elif in_symmetric and (match := _SYMMETRIC_NAME.fullmatch(line)):
                yield Record("symmetric", block, match.group(1), number)
            elif (header := _header(line, number, block)) is not None:
                yield header
            continue
        in_symmetric = False
        yield _data(line, number, block, source)
