"""``dataprep coco-from-wider``: thin click layer over :func:`converters.widerface.save_coco_from_wider`."""
from __future__ import annotations

import sys

import click

from evaluators.errors import DataprepError

from .cli_report import echo_conversion


@click.command(name="coco-from-wider", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("root", type=click.Path())
@click.option("--split", type=click.Choice(["train", "val"]), multiple=True, default=("val",), show_default=True,
              help="Split(s) to convert (repeat the option for both).")
@click.option("--source", type=click.Choice(["voc", "txt"]), default="voc", show_default=True,
              help="voc: WIDER_<split>/Annotations/*.xml + <split>.txt (mmdetection's layout); "
                   "txt: wider_face_split/wider_face_<split>_bbx_gt.txt (keeps the six attributes).")
@click.option("--voc-minus-one", is_flag=True, help="Shift XML corners by -1 as mmdetection does (parity only).")
@click.option("--min-size", type=float, default=None,
              help="Faces narrower or lower than this get iscrowd=1 (mmdetection's bbox_min_size=17 filter).")
@click.option("--invalid-as-crowd", is_flag=True, help="txt source: faces marked invalid get iscrowd=1.")
@click.option("--file-prefix", default="", show_default=True,
              help="Prepended to file_name <event>/<id>.jpg (e.g. 'images/' to resolve against WIDER_<split>/).")
@click.option("--out", "-o", type=click.Path(), default=None,
              help="Output .json ({split} in it for several splits) [default: ROOT/annotations/widerface_<split>.json].")
@click.option("--workers", "-j", type=int, default=1, show_default=True, help="Processes parsing the XML files.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary: print only the paths written.")
def coco_from_wider_command(root, split, source, voc_minus_one, min_size, invalid_as_crowd, file_prefix, out,
                            workers, quiet) -> None:
    """Convert WIDER FACE annotations under ROOT to COCO JSON (one category, face)."""
    from converters.problems import ProblemLog
    from converters.widerface import WiderOptions, save_coco_from_wider

    if out is not None and len(split) > 1 and "{split}" not in out:
        click.echo("error: --out needs {split} in it when several splits are converted.", err=True)
        sys.exit(2)
    problems = ProblemLog()
    try:
        summaries = []
        for name in split:
            opts = WiderOptions(split=name, source=source, voc_minus_one=voc_minus_one, min_size=min_size,
                                invalid_as_crowd=invalid_as_crowd, file_prefix=file_prefix, workers=max(1, workers),
                                progress=not quiet)
            target = out.format(split=name) if out is not None else None
            summaries.append(save_coco_from_wider(root, target, opts, problems))
    except DataprepError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    echo_conversion(summaries, problems, quiet=quiet)
