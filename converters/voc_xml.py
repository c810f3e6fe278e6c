"""PASCAL VOC annotation XML (``Annotations/<id>.xml``): one pure parser, shared by every VOC-shaped format.

The same shape is used by PASCAL VOC itself and by the VOC-XML form of WIDER Face (one line, no
indentation, always ``<difficult>0</difficult>``)::

    <annotation>
      <folder>VOC2007</folder> <filename>000001.jpg</filename>
      <size><width>353</width><height>500</height><depth>3</depth></size>
      <segmented>0</segmented>
      <object>
        <name>dog</name> <pose>Left</pose> <truncated>1</truncated> <difficult>0</difficult>
        <bndbox><xmin>48</xmin><ymin>240</ymin><xmax>195</xmax><ymax>371</ymax></bndbox>
      </object> ...
    </annotation>

:func:`parse_voc_xml` keeps the corners as written (floats; VOC's are 1-based inclusive integers, see
``converters/voc.py`` for the conversion to COCO boxes). Optional fields are optional: a missing
``<difficult>`` or ``<truncated>`` is 0 (as mmdetection reads VOC2012's action and layout objects), a
missing ``<size>`` gives ``width = height = None`` (the caller decides), a missing ``<pose>`` is None.
Every other child element is kept in ``extra`` (a leaf as its text, a nested element as a dict, a repeated
tag as a list), so ``<occluded>``, ``<part>`` or ``<actions>`` survive. Anything malformed raises
:class:`~evaluators.errors.RecordError` naming the file, the object and the field. ElementTree (stdlib)
parses the 3,226 WIDER val files (39,707 objects) in 0.3 s, so lxml is not needed.
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

from evaluators.errors import InputFileError, RecordError

_OBJECT_FIELDS = ("name", "pose", "truncated", "difficult", "bndbox")
_TOP_FIELDS = ("folder", "filename", "size", "segmented", "object")
_CORNERS = ("xmin", "ymin", "xmax", "ymax")
_FIX_XML = "repair or regenerate the annotation file (VOC's layout: <annotation><size>...</size><object>...</object></annotation>)."


@dataclass(frozen=True)
class VocObject:
    """One ``<object>``: ``index`` is its 0-based position in the file, ``bbox`` the corners as written."""

    index: int
    name: str
    bbox: Tuple[float, float, float, float]  # xmin, ymin, xmax, ymax
    difficult: int = 0
    truncated: int = 0
    pose: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VocAnnotation:
    """One annotation file; ``width``/``height``/``depth`` are None when ``<size>`` (or a part) is missing."""

    source: str
    filename: Optional[str]
    folder: Optional[str]
    width: Optional[int]
    height: Optional[int]
    depth: Optional[int]
    segmented: Optional[int]
    objects: Tuple[VocObject, ...]
    extra: Dict[str, Any] = field(default_factory=dict)


def parse_voc_xml(data: Union[str, bytes], source: str) -> VocAnnotation:
    """Parse the text (or bytes) of one VOC annotation file; ``source`` names it in error messages."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        raise RecordError(f"{source}, line {line}, column {column}", None, str(exc), "is not well-formed XML",
                          fix=_FIX_XML) from None
    if root.tag != "annotation":
        raise RecordError(source, None, f"<{root.tag}>", "the root element is not <annotation>", fix=_FIX_XML)
    width, height, depth = _size(root.find("size"), source)
    objects = tuple(_object(el, k, source) for k, el in enumerate(root.findall("object")))
    return VocAnnotation(
        source=source, filename=_text(root, "filename"), folder=_text(root, "folder"), width=width,
        height=height, depth=depth,
        segmented=_int_field(root.find("segmented"), source, "<segmented>", default=None),
        objects=objects, extra=_extra(root, _TOP_FIELDS),
    )


def read_voc_xml(path: Union[str, Path]) -> VocAnnotation:
    """Read and parse one annotation file (errors name the path)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(path, "annotation file does not exist",
                             fix="add it, or remove its image id from the image-set file.") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read the annotation file ({exc.strerror})") from None
    return parse_voc_xml(data, str(path))


# --------------------------------------------------------------------------- pieces


def _text(parent: ET.Element, tag: str) -> Optional[str]:
    el = parent.find(tag)
    if el is None or el.text is None:
        return None
    return el.text.strip()


def _size(el: Optional[ET.Element], source: str) -> Tuple[Optional[int], Optional[int], Optional[int]]:
    if el is None:
        return None, None, None
    return tuple(_int_field(el.find(tag), source, f"<size>/<{tag}>", default=None)  # type: ignore[return-value]
                 for tag in ("width", "height", "depth"))


def _int_field(el: Optional[ET.Element], where: str, what: str, default: Optional[int]) -> Optional[int]:
    """An integer field (``1``, ``500.0``, ``true``/``false`` for flags); missing or empty -> ``default``."""
    if el is None or el.text is None or not el.text.strip():
        return default
    text = el.text.strip()
    lowered = text.lower()
    if lowered in ("true", "false"):
        return int(lowered == "true")
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value != int(value):
        raise RecordError(where, None, text, f"{what} is not an integer",
                          fix=f"write {what} as a whole number.")
    return int(value)


def _object(el: ET.Element, index: int, source: str) -> VocObject:
    name = _text(el, "name")
    where = f"{source}, object #{index}" + (f" ({name})" if name else "")
    if not name:
        raise RecordError(where, None, ET.tostring(el, encoding="unicode")[:120], "has no <name>",
                          fix="give every <object> its class in <name>.")
    box = el.find("bndbox")
    if box is None:
        raise RecordError(where, None, name, "has no <bndbox>",
                          fix="give every <object> a <bndbox> with <xmin>, <ymin>, <xmax>, <ymax>.")
    corners = []
    for tag in _CORNERS:
        text = _text(box, tag)
        if text is None:
            raise RecordError(where, None, name, f"<bndbox> has no <{tag}>",
                              fix="write all four corners <xmin> <ymin> <xmax> <ymax>.")
        try:
            value = float(text)
        except ValueError:
            raise RecordError(where, None, text, f"<bndbox>/<{tag}> is not a number",
                              fix="write the corners as plain numbers (pixels, 1-based).") from None
        if not math.isfinite(value):
            raise RecordError(where, None, text, f"<bndbox>/<{tag}> is not finite",
                              fix="write the corners as plain numbers (pixels, 1-based).")
        corners.append(value)
    return VocObject(
        index=index, name=name, bbox=tuple(corners),  # type: ignore[arg-type]
        difficult=_int_field(el.find("difficult"), where, "<difficult>", default=0) or 0,
        truncated=_int_field(el.find("truncated"), where, "<truncated>", default=0) or 0,
        pose=_text(el, "pose"), extra=_extra(el, _OBJECT_FIELDS),
    )


def _extra(parent: ET.Element, known: Tuple[str, ...]) -> Dict[str, Any]:
    """Children other than ``known``: leaves as text, nested elements as dicts, repeated tags as lists."""
    out: Dict[str, Any] = {}
    for child in parent:
        if child.tag in known:
            continue
        _put(out, child.tag, _value(child))
    return out


def _value(el: ET.Element) -> Any:
    if len(el) == 0:
        return (el.text or "").strip()
    out: Dict[str, Any] = {}
    for child in el:
        _put(out, child.tag, _value(child))
    return out


def _put(out: Dict[str, Any], key: str, value: Any) -> None:
    if key not in out:
        out[key] = value
    elif isinstance(out[key], list):
        out[key].append(value)
    else:
        out[key] = [out[key], value]
