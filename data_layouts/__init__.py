"""Declarative dataset-folder layouts, one YAML file per dataset tree (checked by :mod:`dataprep.layouts`).

``dataprep check-layout NAME PATH`` and the converters' ``require_layout(NAME, PATH)`` read ``NAME.yaml`` from
this package. The schema is small and validated on load (``dataprep.layouts.load_layout``):

Top level
    ``name``            the file stem (``coco``, ``dota`` ...).
    ``title``           one line: what the dataset tree is.
    ``root``            what PATH stands for, e.g. ``data/coco`` in mmdetection's data tree.
    ``used_by``         optional: which tools read this tree.
    ``splits``          the known split names (``{split}`` values), e.g. ``[train2017, val2017, test2017]``.
    ``default_splits``  the splits checked, and required, when no ``--splits`` is given; the other known
                        splits are checked too, as optional. ``--splits a,b`` checks exactly ``a`` and ``b``
                        (any name, e.g. ``train2014``) and requires them.
    ``single_split``    optional, default false: PATH may also be *one* split folder (``DOTA/train`` holding
                        ``images/`` and ``labelTxt/``; ``VOCdevkit/VOC2007``). Parts are then checked with
                        ``{split}`` = ``.``; this is chosen automatically when no known split folder exists but
                        the per-split parts are found in PATH itself, or forced with ``--splits .``.
    ``parts``           the entries below, in display order.

A part
    ``path``            relative to PATH, ``/``-separated. ``{split}`` is replaced by each split name.
                        Wildcards ``*``, ``?``, ``[...]`` and ``{a,b,c}`` (alternatives; a brace group with a
                        comma) may appear in any component; a wildcard does not match names starting with
                        ``.``. A trailing ``/`` means a folder (or, for a glob, that folders are counted).
    ``kind``            ``dir``, ``file`` or ``glob`` (default: ``glob`` when the path has a wildcard, ``dir``
                        when it ends with ``/``, else ``file``).
    ``min``             globs only: the number of matches needed (default 1). Globs are counted and the
                        count is shown (``Annotations/*.xml  ✓ 12,880 files``).
    ``required``        default true. An optional part is reported as present or ``– absent``.
    ``description``     what it is and what uses it (``semantic maps for HTC / DetectoRS / SCNet``).
    ``fix``             optional: what to do when it is missing (default: "add PATH: description").
    ``splits`` / ``skip_splits``  parts with ``{split}`` only: the splits the part applies to / does not
                        apply to (e.g. test sets have no labels: ``skip_splits: [test]``).
    ``misplaced``       a list of ``{path, fix}``: known wrong places where users put this part. When the part
                        is not found and a misplaced path is, the report marks it ``!`` with its count and
                        prints the fix (``move WIDER_train_annotations/*.xml to WIDER_train/Annotations/``).
                        ``{split}`` works in both ``path`` and ``fix``.

A group of alternatives
    ``any_of``          a list of alternatives, each either one part or ``{label, parts: [part, ...]}`` (all
                        of its required parts needed). The group is satisfied when one alternative is. A
                        group that uses ``{split}`` is decided per split (train may use one alternative and
                        val another). Example: DOTA labels in ``labelTxt/`` *or* ``annfiles/``; LVIS v0.5
                        *or* v1 annotation names; ultralytics images in a folder *or* listed in
                        ``train2017.txt``.
    ``description``, ``required``, ``splits``, ``skip_splits``  as for a part.

The layouts: coco, ultralytics-coco, lvis, cityscapes, widerface, deepfashion-inshop, voc, dota.
"""
