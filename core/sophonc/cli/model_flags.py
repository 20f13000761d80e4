"""The model-import flags ``sophon transform`` and ``sophon compile`` share.

TPU-MLIR's ``model_transform`` options for the input shapes, the graph cut and
the image preprocessing; :func:`import_model` turns them into a canonicalised
top-level module with the preprocessing recorded on its image inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from sophonc.api import Frontend, FrontendOptions
from sophonc.cli.options import parse_dims, parse_floats, parse_names, parse_shapes
from sophonc.errors import ModelLoadError, SophonError
from sophonc.ir.module import Module
from sophonc.preprocess import PreprocessConfig, is_image_input

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS = [
    click.option("--model_data", default=None, help="Second model file some formats need."),
    click.option("--input_shapes", default=None, help="E.g. [[1,3,640,640]]; one list per input."),
    click.option(
        "--resize_dims", default=None, help="h,w a picture is resized to (then cropped)."
    ),
    click.option("--keep_aspect_ratio", is_flag=True, help="Keep the ratio when resizing."),
    click.option("--keep_ratio_mode", default="letterbox", help="letterbox or short_side_scale."),
    click.option("--mean", default="0.0,0.0,0.0", help="Per-channel mean (model channel order)."),
    click.option("--scale", default="1.0,1.0,1.0", help="Per-channel multiplier."),
    click.option("--pixel_format", default="bgr", help="rgb, bgr, gray or rgba."),
    click.option("--channel_format", default="nchw", help="nchw, nhwc or none (not an image)."),
    click.option("--pad_value", default="0", help="Fill value of the letterbox border."),
    click.option("--pad_type", default="center", help="center or normal (top-left)."),
    click.option("--preprocess_list", default=None, help="1-based inputs to preprocess (all)."),
    click.option("--output_names", default=None, help="Comma list of tensors to cut the graph at."),
]


def model_flags(command: F) -> F:
    """Decorate a click command with the model-import flags (as ``**model_flags``)."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


@dataclass(frozen=True)
class ModelImport:
    """The parsed import flags of one run."""

    options: FrontendOptions
    config: PreprocessConfig
    preprocess_list: list[int]


def parse_model_flags(model_name: str, flags: dict[str, Any]) -> ModelImport:
    """The flags of :func:`model_flags`, parsed with one-line errors."""
    model_data = flags["model_data"]
    if model_data is not None and not Path(model_data).is_file():
        raise ModelLoadError(f"model data file '{model_data}' not found; check --model_data")
    try:
        pad = int(flags["pad_value"])
    except ValueError:
        raise SophonError(f"--pad_value '{flags['pad_value']}' must be an integer") from None
    config = PreprocessConfig(
        resize_dims=parse_dims("resize_dims", flags["resize_dims"]),
        keep_aspect_ratio=flags["keep_aspect_ratio"],
        keep_ratio_mode=flags["keep_ratio_mode"],
        mean=parse_floats("mean", flags["mean"]) or (0.0,),
        scale=parse_floats("scale", flags["scale"]) or (1.0,),
        pixel_format=flags["pixel_format"],
        channel_format=flags["channel_format"],
        pad_value=pad,
        pad_type=flags["pad_type"],
    )
    only = [int(s) for s in parse_names(flags["preprocess_list"]) if s.isdigit()]
    options = FrontendOptions(
        model_name=model_name,
        input_shapes=parse_shapes(flags["input_shapes"]),
        output_names=parse_names(flags["output_names"]),
        model_data=Path(model_data) if model_data else None,
    )
    return ModelImport(options, config, only)


def attach_preprocess(
    module: Module, config: PreprocessConfig, preprocess_list: list[int] | None = None
) -> list[str]:
    """Store ``config`` on every image-like input (TPU-MLIR's top.Input rule).

    ``preprocess_list`` holds 1-based input indices to restrict it to; returns the
    names of the inputs that got preprocessing.
    """
    done: list[str] = []
    for i, value in enumerate(module.graph.inputs, start=1):
        if preprocess_list and i not in preprocess_list:
            continue
        shape = value.type.shape
        if shape is None or not is_image_input(shape, config.channel_format):
            continue
        value.meta.update(config.resolved(shape).to_meta())
        done.append(value.name)
    return done


def import_model(
    model_path: Path, parsed: ModelImport, step: Callable[[str], None]
) -> tuple[Frontend, Module]:
    """Frontend chosen from the file, module imported, canonicalised, preprocessed."""
    from sophonc.passes import canonicalize
    from sophonc.plugins.registry import frontend_for_path

    if not model_path.is_file():
        raise ModelLoadError(f"model file '{model_path}' not found; check the path")
    frontend = frontend_for_path(model_path)
    step(f"importing {model_path} with the {frontend.name} frontend")
    try:
        module = frontend.load(model_path, parsed.options)
    except SophonError:
        raise
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read model '{model_path}': {exc}") from None
    step("canonicalizing")
    module = canonicalize(module)
    attach_preprocess(module, parsed.config, parsed.preprocess_list)
    return frontend, module
