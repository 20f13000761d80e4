"""The calibration table file: what ``run_calibration`` writes and ``model_deploy`` reads.

The layout is TPU-MLIR's, byte for byte, so a table made here is accepted by its
``model_deploy`` and one made there is read here::

    # mlir version: <version> cali version 1.0
    # mlir: <file>.mlir
    # genetated time: <datetime>            (TPU-MLIR's spelling, kept)
    # quantization threshold calculation method: <method>
    # histogram number: <bins>
    # sample number: <N>
    ###
    # tune number: <T>
    ###
    # op_name    threshold    min    max
    <name> <threshold %.7f> <min %.7f> <max %.7f>

followed by the optional blocks described in :mod:`sophonc.calibration.table_parser`.
"""

from __future__ import annotations

import datetime
import logging
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

from sophonc.calibration import table_parser as parser
from sophonc.calibration.table_entry import ScaleLine, TableEntry, format_entry
from sophonc.errors import SophonError

logger = logging.getLogger(__name__)

#: How many missing names :meth:`CalibrationTable.check_against` quotes.
QUOTED_MISSING = 3


@dataclass
class TableHeader:
    """The header fields of a table that was read (None when a line was absent)."""

    version: str | None = None
    mlir_file: str | None = None
    generated: str | None = None
    method: str | None = None
    histogram_bins: int | None = None
    sample_count: int | None = None
    tune_count: int | None = None


class CalibrationTable(MutableMapping[str, TableEntry]):
    """Tensor name -> :class:`TableEntry` in file order, plus the optional blocks as read.

    ``int4_entries`` / ``fp8_entries`` are the ``#int4_th`` / fp8 thresholds,
    ``weight_scales`` / ``weight_scales_fp8`` the ``#weight_scale`` lines,
    ``asym_ops`` / ``int4_ops`` / ``symmetric_ops`` the op-name blocks, and
    ``activation_scales`` the QAT scale lines found among the thresholds.
    """

    def __init__(self, entries: Mapping[str, TableEntry] | None = None) -> None:
        self._entries = {name: TableEntry(*entry) for name, entry in (entries or {}).items()}
        self.int4_entries: dict[str, TableEntry] = {}
        self.fp8_entries: dict[str, TableEntry] = {}
        self.weight_scales: dict[str, ScaleLine] = {}
        self.weight_scales_fp8: dict[str, ScaleLine] = {}
        self.activation_scales: dict[str, ScaleLine] = {}
        self.asym_ops: list[str] = []
        self.int4_ops: list[str] = []
        self.symmetric_ops: list[str] = []
        self.header = TableHeader()
        self.source: Path | None = None

    def __getitem__(self, name: str) -> TableEntry:
        return self._entries[name]

    def __setitem__(self, name: str, entry: TableEntry) -> None:
        self._entries[name] = TableEntry(*entry)

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> CalibrationTable:
        """Read a table written by TPU-MLIR, by a QAT exporter or by :meth:`write`."""
        file = Path(path)
        if not file.is_file():
            raise SophonError(
                f"calibration table {file} not found: give the file written by "
                f"`sophon calibrate` (run_calibration)"
            )
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as exc:
            raise SophonError(
                f"calibration table {file} is not a text file ({exc.reason})"
            ) from exc
        table = cls()
        table.source = file
        for record in parser.parse_lines(lines, str(file)):
            table._add(record)
        if not table._entries and not table.fp8_entries:
            raise SophonError(
                f"calibration table {file} has no '<name> <threshold> <min> <max>' lines: "
                f"it is empty or not a calibration table"
            )
        return table

    def _add(self, record: parser.Record) -> None:
        if record.kind == "header":
            is_count = record.name in ("histogram_bins", "sample_count", "tune_count")
            setattr(self.header, record.name, int(record.value) if is_count else record.value)
        elif record.kind == "symmetric":
            self.symmetric_ops.append(record.name)
        elif record.kind == "name":
            (self.asym_ops if record.block == parser.ASYM_OP else self.int4_ops).append(record.name)
        elif record.kind == "entry" and record.entry is not None:
            target = {parser.INT4: self.int4_entries, parser.FP8: self.fp8_entries}
            target.get(record.block, self._entries)[record.name] = record.entry
        elif record.kind == "scale" and record.scale is not None:
            scales = {
                parser.WEIGHT_SCALE: self.weight_scales,
                parser.WEIGHT_SCALE_FP8: self.weight_scales_fp8,
            }
            scales.get(record.block, self.activation_scales)[record.name] = record.scale

    def write(
        self,
        path: str | os.PathLike[str],
        *,
        mlir_file: str,
        method: str,
        histogram_bins: int,
        sample_count: int,
        tune_count: int,
        version: str,
        generated: datetime.datetime | None = None,
    ) -> None:
        """Write the table in TPU-MLIR's format, atomically (a temp file then ``os.replace``).

        ``method`` is written as given: TPU-MLIR's own tables after its tune step say
        ``['kl']`` there (it passes its method list), its other tables the bare name.
        ``generated`` defaults to now.
        """
        stamp = generated if generated is not None else datetime.datetime.now()
        lines = [
            f"# mlir version: {version} cali version 1.0",
            f"# mlir: {mlir_file}",
            f"# genetated time: {stamp}",
            f"# quantization threshold calculation method: {method}",
            f"# histogram number: {histogram_bins}",
            f"# sample number: {sample_count}",
            "###",
            f"# tune number: {tune_count}",
            "###",
            "# op_name    threshold    min    max",
        ]
        lines += [format_entry(name, entry) for name, entry in self._entries.items()]
        lines += [f"{name} {' '.join(s.tokens)}" for name, s in self.activation_scales.items()]
        lines += self._block_lines()
        _write_atomically(Path(path), "".join(f"{line}\n" for line in lines))

    def _block_lines(self) -> list[str]:
        """The optional blocks, ordered so that TPU-MLIR's importer reads every one.

        Blank separators and ``# name`` comments go only where the importer skips
        them (among thresholds): a blank line inside an op-name block stops it. So
        ``# symmetric_op`` comes before ``#asym_op`` (TPU-MLIR writes it after, which
        its own importer cannot read when both are present).
        """
        lines: list[str] = []
        if self.int4_entries:
            lines += ["", "#int4_th"]
            lines += [format_entry(name, entry) for name, entry in self.int4_entries.items()]
        if self.fp8_entries:
            lines += ["", "#tpu-mlir-fp8"]
            lines += [format_entry(name, entry) for name, entry in self.fp8_entries.items()]
        if self.symmetric_ops:
            lines += ["", "# symmetric_op", *(f"# {name}" for name in self.symmetric_ops)]
        separator = [""]
        for header, scales in (
            ("#weight_scale", self.weight_scales),
            ("#weight_scale_fp8", self.weight_scales_fp8),
        ):
            if scales:
                lines += [*separator, header]
                lines += [f"{name} {' '.join(s.tokens)}" for name, s in scales.items()]
                separator = []
        for header, names in (("#int4_op", self.int4_ops), ("#asym_op", self.asym_ops)):
            if names:
                lines += [*separator, header, *names]
                separator = []
        return lines

    def as_stored(self) -> CalibrationTable:
        """A copy whose thresholds and ranges are what the file would hold (``%.7f``).

        A table used in memory right after calibration must give the same model
        as the same table written and read back, so ``sophon compile`` and the
        ``calibrate`` + ``deploy`` pair produce identical bytes.
        """
        rounded = CalibrationTable()
        for name, entry in self._entries.items():
            rounded[name] = TableEntry(*(float(f"{float(v):.7f}") for v in entry))
        return rounded

    def check_against(self, names: Iterable[str]) -> list[str]:
        """The table's names missing from a model's tensor ``names``; an error if most are.

        A table made for another model shares few names with this one: when fewer
        than half of the table's names exist in the model, raise one line naming a few
        missing ones and the model the table's header names. Otherwise return the
        missing names (logged), which stay float as in TPU-MLIR.
        """
        known = set(names)
        missing = [name for name in self._entries if name not in known]
        present = len(self._entries) - len(missing)
        where = f" {self.source}" if self.source is not None else ""
        if present * 2 < len(self._entries):
            made_for = self.header.mlir_file or "an unnamed model"
            quoted = ", ".join(missing[:QUOTED_MISSING])
            if len(missing) > QUOTED_MISSING:
                quoted += ", ..."
            raise SophonError(
                f"calibration table{where} does not fit this model: only {present} of its "
                f"{len(self._entries)} tensors exist here (missing {quoted}); its header "
                f"says it was made for {made_for}: calibrate this model to get its own table"
            )
        if missing:
            logger.warning(
                "calibration table%s: %d tensors are not in the model (e.g. %s)",
                where,
                len(missing),
                ", ".join(missing[:QUOTED_MISSING]),
            )
        return missing


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a sibling temp file, then rename it over ``path``."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise SophonError(f"cannot write calibration table {path}: {exc.strerror or exc}") from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
