"""``dataprep`` command line: one group, one subcommand per pipeline step (thin click layer)."""
from __future__ import annotations

import click

from evaluators.cli import evaluate_command

from . import __version__
from .cli_cityscapes import coco_from_cityscapes_command
from .cli_coco_dota import coco_from_dota_command
from .cli_deepfashion import coco_from_deepfashion_command
from .cli_layout import check_layout_command
from .cli_merge import dota_merge_command
from .cli_split import dota_split_command
from .cli_yolo import coco_from_yolo_command, yolo_from_coco_command
from .cli_voc import coco_from_voc_command
from .cli_wider import coco_from_wider_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dataprep")
def cli() -> None:
    """Dataset preparation and exact, fast evaluation for object detection."""


cli.add_command(evaluate_command, name="evaluate")
cli.add_command(dota_merge_command, name="dota-merge")
cli.add_command(dota_split_command, name="dota-split")
cli.add_command(coco_from_dota_command, name="coco-from-dota")
cli.add_command(coco_from_wider_command, name="coco-from-wider")
cli.add_command(check_layout_command, name="check-layout")
cli.add_command(coco_from_cityscapes_command, name="coco-from-cityscapes")
cli.add_command(coco_from_deepfashion_command, name="coco-from-deepfashion")
cli.add_command(coco_from_yolo_command, name="coco-from-yolo")
cli.add_command(yolo_from_coco_command, name="yolo-from-coco")
cli.add_command(coco_from_voc_command, name="coco-from-voc")


def main() -> None:
    """Console-script entry point."""
    cli()


if __name__ == "__main__":
    main()
