"""``dataprep coco-from-voc``: thin click layer over :func:`converters.voc.convert_voc`."""
from __future__ import annotations

import sys
from typing import Optional, Tuple

import click

from evaluators.errors import DataprepError


def _list(ctx, param, values) -> Optional[Tuple[str, ...]]:
    """``--years 2007 --years 2012`` or ``--years 2007,2012`` -> ("2007", "2012"); nothing -> None."""
    items = tuple(v.strip() for value in values for v in value.split(",") if v.strip())
    return items or None


@click.command(name="coco-from-voc", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("vocdevkit", type=click.Path())
@click.option("--years", multiple=True, callback=_list,
              help="Years to convert, e.g. 2007,2012 (repeatable) [default: every VOC<year>/ folder].")
@click.option("--splits", multiple=True, callback=_list,
              help="Splits (ImageSets/Main/<split>.txt), e.g. trainval,test [default: trainval and test where present].")
@click.option("--keep-difficult", is_flag=True,
              help="Write difficult objects with iscrowd 0 (they keep 'difficult': 1) instead of iscrowd 1.")
@click.option("--classes", default=None,
              help="Categories: voc (the 20, default), found (sorted names in the files), or comma-separated names; "
                   "'voc,face' extends the 20. Objects of other classes are skipped and reported.")
@click.option("--out-dir", "-o", type=click.Path(file_okay=False), default=None,
              help="Output folder [default: VOCDEVKIT/annotations].")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes parsing the XML files.")
@click.option("--strict", is_flag=True, help="Stop at the first problem instead of skipping and reporting it.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; print only the paths written.")
def coco_from_voc_command(vocdevkit, years, splits, keep_difficult, classes, out_dir, workers, strict, quiet) -> None:
    """Convert PASCAL VOC annotations in VOCDEVKIT (VOC<year>/Annotations + ImageSets/Main) to one COCO JSON
    per year and split: annotations/voc07_trainval.json, voc07_test.json, voc12_trainval.json, ...

    Boxes: x = xmin - 1, y = ymin - 1, w = xmax - xmin + 1, h = ymax - ymin + 1 (VOC corners are 1-based and
    inclusive); categories: the 20 VOC classes, ids 1..20; difficult objects keep 'difficult': 1 and get
    iscrowd 1 unless --keep-difficult.
    """
    from converters.voc import VocConvertOptions, convert_voc

    options = VocConvertOptions(years=years, splits=splits, keep_difficult=keep_difficult, classes=classes,
                                workers=workers, strict=strict, progress=not quiet and sys.stderr.isatty())
    try:
        result = convert_voc(vocdevkit, out_dir, options)
    except DataprepError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    for line in result.lines():  # paths written on stdout, the rest of the summary on stderr
        written = line.startswith("wrote ")
        if written or not quiet:
            click.echo(line, err=not written)
