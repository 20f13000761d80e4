"""The pass API and the manager that runs passes to a fixed point.

Modelled on onnx_ir / torch.fx: a pass is an object whose ``call(module)``
returns ``PassResult(module, modified)``. Passes declare *properties* they
require and ensure (``shapes``: every value has an inferred type; ``sorted``: the
node list is topologically ordered). A pass that modifies the module keeps only
the properties it lists in ``preserves`` or ``ensures``; the manager refuses to
run a pass whose requirements are not established, naming the pass that would
establish them. A failing pass becomes one :class:`PassError` naming it and the
passes that ran before it.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Sequence
from typing import ClassVar, NamedTuple

from sophonc.errors import PassError, SophonError
from sophonc.ir.module import Module
from sophonc.ir.verify import verify_module

log = logging.getLogger(__name__)

SHAPES = "shapes"
SORTED = "sorted"

#: Which built-in pass establishes each property (for error messages).
ESTABLISHED_BY = {SHAPES: "ShapeInferencePass", SORTED: "TopologicalSortPass"}


class PassResult(NamedTuple):
    """What a pass returns: the module (maybe a new object) and whether it changed."""

    module: Module
    modified: bool


class PassBase(abc.ABC):
    """A transformation of a module.

    Subclasses document their rewrite rules in the class docstring and set
    ``requires``/``ensures``/``preserves``.
    """

    requires: ClassVar[frozenset[str]] = frozenset()
    ensures: ClassVar[frozenset[str]] = frozenset()
    preserves: ClassVar[frozenset[str]] = frozenset()

    @property
    def name(self) -> str:
        """The pass's name in messages and hooks: its class name."""
        return type(self).__name__

    @abc.abstractmethod
    def call(self, module: Module) -> PassResult:
        """Apply the pass."""

    def __call__(self, module: Module) -> PassResult:
        return self.call(module)

    def __repr__(self) -> str:
        return self.name


class InPlacePass(PassBase):
    """A pass that edits the module it is given and returns that same object."""


class PassManager:
    """Runs passes in order, optionally repeating the list until nothing changes.

    ``fixed_point=True`` repeats the whole list until one round modifies nothing,
    at most ``max_rounds`` times (more is a PassError naming the passes that kept
    changing the module). ``verify`` checks the IR invariants after every pass
    that modified it. The hooks ``sophon_before_pass_run`` and
    ``sophon_after_pass_run`` observe every pass run.
    """

    def __init__(
        self,
        passes: Sequence[PassBase],
        *,
        fixed_point: bool = False,
        max_rounds: int = 20,
        verify: bool = True,
    ) -> None:
        self.passes = list(passes)
        self.fixed_point = fixed_point
        self.max_rounds = max_rounds
        self.verify = verify
        self.history: list[str] = []

    def run(self, module: Module, established: frozenset[str] = frozenset()) -> PassResult:
        """Run the passes on ``module``; ``established`` are properties already true."""
        from sophonc.plugins.manager import hooks

        relay = hooks()
        props = set(established)
        any_change = False
        for _ in range(self.max_rounds if self.fixed_point else 1):
            changed_now: list[str] = []
            for p in self.passes:
                missing = p.requires - props
                if missing:
                    need = sorted(missing)[0]
                    raise PassError(
                        f"pass {p.name} requires '{need}', which no earlier pass established; "
                        f"run {ESTABLISHED_BY.get(need, 'the pass that ensures it')} before it"
                    )
                relay.sophon_before_pass_run(pass_name=p.name, module=module)
                result = self._run_one(p, module)
                module = result.module
                self.history.append(p.name)
                relay.sophon_after_pass_run(
                    pass_name=p.name, module=module, modified=result.modified
                )
                if result.modified:
                    changed_now.append(p.name)
                    props &= set(p.preserves) | set(p.ensures)
                    if self.verify:
                        self._verify(p, module)
                props |= p.ensures
            any_change = any_change or bool(changed_now)
            if not self.fixed_point or not changed_now:
                return PassResult(module, any_change)
        raise PassError(
            f"passes did not reach a fixed point after {self.max_rounds} rounds; still "
            f"changing the module: {', '.join(dict.fromkeys(changed_now))}"
        )

    def _before(self, *, ran: bool = False) -> str:
        earlier = self.history[:-1] if ran else self.history
        if not earlier:
            return "as the first pass"
        shown = earlier[-6:]
        more = "…, " if len(earlier) > len(shown) else ""
        return f"after {more}{', '.join(shown)}"

    def _run_one(self, p: PassBase, module: Module) -> PassResult:
        try:
            return p.call(module)
        except PassError:
            raise
        except SophonError as exc:
            raise PassError(
                f"pass {p.name} failed on module '{module.name}' ({self._before()}): {exc}"
            ) from exc
        except Exception as exc:
            raise PassError(
                f"pass {p.name} failed on module '{module.name}' ({self._before()}): "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def _verify(self, p: PassBase, module: Module) -> None:
        try:
            verify_module(module)
        except SophonError as exc:
            raise PassError(
                f"pass {p.name} left module '{module.name}' malformed "
                f"({self._before(ran=True)}): {exc}"
            ) from exc
