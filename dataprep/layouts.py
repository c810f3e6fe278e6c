"""Check a dataset folder against its declarative layout in ``data_layouts/NAME.yaml`` (schema: see that package).

    report = check_layout("widerface", "data/WIDERFace")          # what is present, missing, misplaced
    print(report.render())                                          # a tree with ✓ ✗ – ! marks and fix lines
    require_layout("dota", src, splits=["."])                       # converters: raise LayoutError if not ok

``splits``: when given, exactly those splits are checked and required (any name, e.g. ``train2014``; ``.``
means PATH is one split folder, for layouts with ``single_split``); when None, the layout's
``default_splits`` are required and its other known splits are checked as optional.

The check only lists folders (``os.scandir``, each folder once per check, file types from the directory
entries) and never opens a file, so a 118k-image folder costs one listing.
"""
from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from evaluators.errors import InputFileError, LayoutError, ParameterError

PathLike = Union[str, "os.PathLike[str]"]

LAYOUT_NAMES: Tuple[str, ...] = ("coco", "ultralytics-coco", "lvis", "cityscapes", "widerface",
                                 "deepfashion-inshop", "voc", "dota")
SINGLE_SPLIT = "."
KINDS = ("dir", "file", "glob")

_TOP_KEYS = {"name", "title", "root", "used_by", "splits", "default_splits", "single_split", "parts"}
_PART_KEYS = {"path", "kind", "min", "required", "description", "fix", "splits", "skip_splits", "misplaced"}
_GROUP_KEYS = {"any_of", "description", "required", "splits", "skip_splits"}
_RULE_KEYS = {"path", "fix"}
_BRACE = re.compile(r"\{([^{}]*)\}")


# --------------------------------------------------------------------------- the schema, as frozen dataclasses


@dataclass(frozen=True)
class Rule:
    """A known wrong place for a part (``path``) and what to do about it (``fix``)."""

    path: str
    fix: str


@dataclass(frozen=True)
class Part:
    """One path of a layout: a folder, a file, or a glob with a minimum count."""

    path: str
    kind: str
    description: str
    min: int = 1
    required: bool = True
    fix: Optional[str] = None
    splits: Optional[Tuple[str, ...]] = None
    skip_splits: Tuple[str, ...] = ()
    misplaced: Tuple[Rule, ...] = ()

    @property
    def uses_split(self) -> bool:
        """True when the path has a ``{split}`` placeholder."""
        return "{split}" in self.path


@dataclass(frozen=True)
class Alternative:
    """One way to satisfy a group: all of its required parts."""

    label: str
    parts: Tuple[Part, ...]


@dataclass(frozen=True)
class Group:
    """``any_of``: satisfied when one alternative is (decided per split when a part uses ``{split}``)."""

    alternatives: Tuple[Alternative, ...]
    description: str = ""
    required: bool = True
    splits: Optional[Tuple[str, ...]] = None
    skip_splits: Tuple[str, ...] = ()

    @property
    def uses_split(self) -> bool:
        """True when any part of any alternative has a ``{split}`` placeholder."""
        return any(p.uses_split for a in self.alternatives for p in a.parts)


Entry = Union[Part, Group]


@dataclass(frozen=True)
class Layout:
    """A parsed, validated ``data_layouts/NAME.yaml``."""

    name: str
    title: str
    root: str
    used_by: str
    splits: Tuple[str, ...]
    default_splits: Tuple[str, ...]
    single_split: bool
    parts: Tuple[Entry, ...]
    source: str

    @property
    def uses_split(self) -> bool:
        """True when some entry depends on the split."""
        return any(e.uses_split for e in self.parts)


# --------------------------------------------------------------------------- loading and validation


def layout_dir() -> Path:
    """The folder of the shipped layout files (the ``data_layouts`` package)."""
    import data_layouts

    return Path(data_layouts.__file__).resolve().parent


def list_layouts() -> List[Tuple[str, str]]:
    """``(name, title)`` of every shipped layout, in :data:`LAYOUT_NAMES` order."""
    return [(name, load_layout(name).title) for name in LAYOUT_NAMES]


def load_layout(name: str) -> Layout:
    """The layout ``name`` (one of :data:`LAYOUT_NAMES`), or a layout file given by its path (``*.yaml``)."""
    name = str(name)
    if name.endswith((".yaml", ".yml")) and os.path.isfile(name):
        return _load_file(str(Path(name).resolve()))
    shipped = sorted(p.stem for p in layout_dir().glob("*.yaml"))
    if name not in shipped:
        raise ParameterError(f"unknown layout {name!r}; known layouts: {', '.join(LAYOUT_NAMES)}.",
                             fix="pick one of those names (dataprep check-layout --list), or pass a layout .yaml file.")
    return _load_file(str(layout_dir() / f"{name}.yaml"))


@lru_cache(maxsize=64)
def _load_file(path: str) -> Layout:
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except OSError as exc:
        raise InputFileError(path, f"cannot be read ({exc})") from None
    except yaml.YAMLError as exc:
        raise InputFileError(path, f"is not valid YAML ({exc})", fix="fix the YAML syntax.") from None
    return parse_layout(data, path)


def _bad(source: str, where: str, reason: str) -> InputFileError:
    return InputFileError(source, f"{where}: {reason}", fix="see the schema in data_layouts/__init__.py.")


def _str_list(source: str, where: str, value) -> Tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _bad(source, where, f"must be a list of names, not {value!r}")
    return tuple(value)


def _check_path(source: str, where: str, path) -> str:
    if not isinstance(path, str) or not path.strip():
        raise _bad(source, where, f"path must be a non-empty string, not {path!r}")
    if path.startswith("/") or ".." in path.split("/") or "\\" in path:
        raise _bad(source, where, f"path {path!r} must be relative, '/'-separated, without '..'")
    for inner in _BRACE.findall(path):
        if "," not in inner and inner != "split":
            raise _bad(source, where, f"path {path!r}: unknown placeholder {{{inner}}} (only {{split}}, or "
                                      "{a,b} alternatives)")
    return path


def _parse_part(data, source: str, where: str) -> Part:
    if not isinstance(data, dict):
        raise _bad(source, where, f"a part must be a mapping, not {data!r}")
    unknown = set(data) - _PART_KEYS
    if unknown:
        raise _bad(source, where, f"unknown key(s) {', '.join(sorted(unknown))}")
    path = _check_path(source, where, data.get("path"))
    wild = _has_wildcard(path.replace("{split}", ""))
    kind = data.get("kind", "glob" if wild else "dir" if path.endswith("/") else "file")
    if kind not in KINDS:
        raise _bad(source, where, f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if kind != "glob" and wild:
        raise _bad(source, where, f"path {path!r} has a wildcard, so kind must be glob")
    minimum = data.get("min", 1)
    if not isinstance(minimum, int) or isinstance(minimum, bool) or minimum < 1 or (kind != "glob" and minimum != 1):
        raise _bad(source, where, f"min must be an integer >= 1 (globs only), not {minimum!r}")
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        raise _bad(source, where, f"part {path!r} needs a description")
    required = data.get("required", True)
    if not isinstance(required, bool):
        raise _bad(source, where, f"required must be true or false, not {required!r}")
    fix = data.get("fix")
    if fix is not None and not isinstance(fix, str):
        raise _bad(source, where, f"fix must be a string, not {fix!r}")
    splits = _str_list(source, where + ".splits", data["splits"]) if "splits" in data else None
    skip = _str_list(source, where + ".skip_splits", data["skip_splits"]) if "skip_splits" in data else ()
    if (splits is not None or skip) and "{split}" not in path:
        raise _bad(source, where, f"splits/skip_splits need a {{split}} placeholder in {path!r}")
    rules = []
    raw_rules = data.get("misplaced", [])
    if not isinstance(raw_rules, list):
        raise _bad(source, where, "misplaced must be a list of {path, fix}")
    for j, rule in enumerate(raw_rules):
        rw = f"{where}.misplaced[{j}]"
        if not isinstance(rule, dict) or set(rule) != _RULE_KEYS:
            raise _bad(source, rw, f"a misplaced rule needs exactly 'path' and 'fix', not {rule!r}")
        if not isinstance(rule["fix"], str) or not rule["fix"].strip():
            raise _bad(source, rw, "fix must be a non-empty string")
        rules.append(Rule(_check_path(source, rw, rule["path"]), rule["fix"]))
    return Part(path=path, kind=kind, description=description, min=minimum, required=required, fix=fix,
                splits=splits, skip_splits=skip, misplaced=tuple(rules))


def _parse_entry(data, source: str, where: str) -> Entry:
    if isinstance(data, dict) and "any_of" in data:
        unknown = set(data) - _GROUP_KEYS
        if unknown:
            raise _bad(source, where, f"unknown key(s) {', '.join(sorted(unknown))} in an any_of group")
        raw = data["any_of"]
        if not isinstance(raw, list) or len(raw) < 2:
            raise _bad(source, where, "any_of needs a list of at least two alternatives")
        alts = []
        for j, alt in enumerate(raw):
            aw = f"{where}.any_of[{j}]"
            if isinstance(alt, dict) and "parts" in alt:
                if set(alt) - {"label", "parts"} or not isinstance(alt["parts"], list) or not alt["parts"]:
                    raise _bad(source, aw, "an alternative is a part, or {label, parts: [part, ...]}")
                parts = tuple(_parse_part(p, source, f"{aw}.parts[{k}]") for k, p in enumerate(alt["parts"]))
                label = alt.get("label") or " + ".join(p.path for p in parts)
            else:
                parts = (_parse_part(alt, source, aw),)
                label = ""  # a single part is named by its path
            if not any(p.required for p in parts):
                raise _bad(source, aw, "an alternative needs at least one required part")
            alts.append(Alternative(str(label), parts))
        required = data.get("required", True)
        if not isinstance(required, bool):
            raise _bad(source, where, f"required must be true or false, not {required!r}")
        group = Group(alternatives=tuple(alts), description=str(data.get("description", "")), required=required,
                      splits=_str_list(source, where + ".splits", data["splits"]) if "splits" in data else None,
                      skip_splits=_str_list(source, where + ".skip_splits", data["skip_splits"])
                      if "skip_splits" in data else ())
        if (group.splits is not None or group.skip_splits) and not group.uses_split:
            raise _bad(source, where, "splits/skip_splits need a {split} placeholder in the group's parts")
        return group
    return _parse_part(data, source, where)


def parse_layout(data, source: str = "<layout>") -> Layout:
    """Validate a loaded layout mapping (see ``data_layouts/__init__.py``) and build a :class:`Layout`."""
    if not isinstance(data, dict):
        raise _bad(source, "top level", "a layout file must be a mapping")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise _bad(source, "top level", f"unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("name", "title"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise _bad(source, "top level", f"{key!r} must be a non-empty string")
    stem = Path(source).stem
    if source.endswith((".yaml", ".yml")) and data["name"] != stem:
        raise _bad(source, "top level", f"name {data['name']!r} differs from the file name {stem!r}")
    raw_parts = data.get("parts")
    if not isinstance(raw_parts, list) or not raw_parts:
        raise _bad(source, "parts", "must be a non-empty list")
    parts = tuple(_parse_entry(p, source, f"parts[{i}]") for i, p in enumerate(raw_parts))
    splits = _str_list(source, "splits", data.get("splits", []))
    default = _str_list(source, "default_splits", data.get("default_splits", list(splits)))
    if set(default) - set(splits):
        raise _bad(source, "default_splits", f"{sorted(set(default) - set(splits))} are not in splits")
    uses_split = any(e.uses_split for e in parts)
    if uses_split and not default:
        raise _bad(source, "splits", "parts use {split} but no (default) splits are declared")
    single = data.get("single_split", False)
    if not isinstance(single, bool) or (single and not uses_split):
        raise _bad(source, "single_split", "must be true or false, and true only when parts use {split}")
    return Layout(name=data["name"], title=data["title"], root=str(data.get("root", "")),
                  used_by=str(data.get("used_by", "")), splits=splits, default_splits=default,
                  single_split=single, parts=parts, source=source)


# --------------------------------------------------------------------------- patterns and the folder probe


def _has_wildcard(path: str) -> bool:
    return any(c in path for c in "*?[") or any("," in g for g in _BRACE.findall(path))


def _expand_braces(pattern: str) -> List[str]:
    for m in _BRACE.finditer(pattern):
        if "," in m.group(1):
            head, tail = pattern[: m.start()], pattern[m.end():]
            return [x for alt in m.group(1).split(",") for x in _expand_braces(head + alt + tail)]
    return [pattern]


@lru_cache(maxsize=512)
def _matcher(component: str):
    """A compiled matcher of one path component (fnmatch, case-sensitive, with ``{a,b}`` alternatives)."""
    regex = "|".join(fnmatch.translate(p) for p in _expand_braces(component))
    return re.compile(f"(?:{regex})").match


def concrete(path: str, split: Optional[str]) -> str:
    """``path`` with ``{split}`` replaced (``.`` = PATH itself) and ``./`` components removed."""
    if split is None:
        return path
    out = path.replace("{split}", split)
    trailing = out.endswith("/")
    comps = [c for c in out.split("/") if c not in ("", ".")]
    return "/".join(comps) + ("/" if trailing else "")


class _Probe:
    """Folder listings of one check, each folder scanned at most once."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._listings: Dict[str, Optional[List[os.DirEntry]]] = {}
        self._counts: Dict[Tuple[str, str], int] = {}

    def listing(self, rel: str) -> Optional[List[os.DirEntry]]:
        if rel not in self._listings:
            try:
                with os.scandir(os.path.join(self.root, rel) if rel else self.root) as it:
                    self._listings[rel] = list(it)
            except (FileNotFoundError, NotADirectoryError, PermissionError):
                self._listings[rel] = None
        return self._listings[rel]

    def count(self, path: str, kind: str) -> int:
        """Matches of ``path`` (0 or 1 for a file or folder)."""
        key = (path, kind)
        if key not in self._counts:
            want_dir = path.endswith("/")
            full = os.path.join(self.root, path.rstrip("/"))
            if kind == "dir":
                n = int(os.path.isdir(full))
            elif kind == "file":
                n = int(os.path.isfile(full))
            else:
                n = self._glob(path.rstrip("/").split("/"), 0, "", want_dir)
            self._counts[key] = n
        return self._counts[key]

    def _glob(self, comps: List[str], i: int, prefix: str, want_dir: bool) -> int:
        comp, last = comps[i], i == len(comps) - 1
        if not _has_wildcard(comp):
            rel = f"{prefix}/{comp}" if prefix else comp
            if last:
                full = os.path.join(self.root, rel)
                return int(os.path.isdir(full) if want_dir else os.path.isfile(full))
            return self._glob(comps, i + 1, rel, want_dir)
        entries = self.listing(prefix)
        if not entries:
            return 0
        match, hidden_ok = _matcher(comp), comp.startswith(".")
        n = 0
        for e in entries:
            if (e.name.startswith(".") and not hidden_ok) or not match(e.name):
                continue
            if last:
                n += bool(e.is_dir() if want_dir else e.is_file())
            elif e.is_dir():
                n += self._glob(comps, i + 1, f"{prefix}/{e.name}" if prefix else e.name, want_dir)
        return n


# --------------------------------------------------------------------------- the report


@dataclass
class Item:
    """One concrete path of the report: a part at one split, or a misplaced find."""

    path: str
    kind: str
    found: int
    need: int
    required: bool
    description: str
    role: str = ""  # "" | "one-of" (in an unsatisfied group) | "alternative" (unused alternative)
    misplaced: bool = False
    optional_split: bool = False  # checked only because its split is a known, non-default one
    fixes: List[int] = field(default_factory=list)

    @property
    def present(self) -> bool:
        """Found often enough (misplaced finds are never 'present')."""
        return not self.misplaced and self.found >= self.need

    @property
    def status(self) -> str:
        """``present``, ``missing`` (required), ``absent`` (optional) or ``misplaced``."""
        if self.misplaced:
            return "misplaced"
        if self.present:
            return "present"
        return "missing" if self.required and self.role != "alternative" else "absent"


@dataclass(frozen=True)
class MissingPart:
    """A required part (or group of alternatives) that is not there."""

    path: str
    description: str
    split: Optional[str]
    fix: str


@dataclass(frozen=True)
class MisplacedPart:
    """Something found in a known wrong place: where it is, how many, where it belongs and the fix."""

    found: str
    count: int
    expected: str
    fix: str


@dataclass
class LayoutReport:
    """The result of :func:`check_layout`; :meth:`render` gives the tree with fix lines."""

    layout: str
    title: str
    root: str
    splits: Tuple[str, ...]
    optional_splits: Tuple[str, ...]
    single_split: bool
    items: List[Item]
    missing: List[MissingPart]
    misplaced: List[MisplacedPart]
    fixes: List[str]

    @property
    def ok(self) -> bool:
        """True when every required part is present (misplaced extras alone do not fail a check)."""
        return not self.missing

    def render(self) -> str:
        """A ``tree``-like view: ✓ present, ✗ missing (required), – absent (optional), ! misplaced;
        counts for globs; then the numbered fixes and a one-line result."""
        return _render(self)


def _plan(layout: Layout, probe: _Probe, splits: Optional[Sequence[str]]) -> Tuple[List[Tuple[str, bool]], bool]:
    """``[(split, required)]`` to check, and whether PATH was taken as one split folder."""
    if splits is not None:
        if isinstance(splits, str):
            splits = splits.split(",")
        names = [str(s).strip() for s in splits]
        if not names or any(not s for s in names):
            raise ParameterError(f"splits {list(splits)!r}: give one or more non-empty split names.",
                                 fix=f"e.g. --splits {','.join(layout.default_splits) or 'train,val'}.")
        bad = [s for s in names if "/" in s or "\\" in s or s == ".."]
        if bad:
            raise ParameterError(f"split {bad[0]!r} is not a folder name.", fix="give names such as "
                                 + ", ".join(layout.splits or ("train", "val")) + ".")
        if not layout.uses_split:
            raise ParameterError(f"layout {layout.name!r} has no per-split parts; do not give splits.")
        if SINGLE_SPLIT in names and not layout.single_split:
            raise ParameterError(f"split '.' (PATH is one split folder) is not possible for layout {layout.name!r}.",
                                 fix="give split names such as " + ", ".join(layout.splits) + ".")
        if SINGLE_SPLIT in names and len(names) > 1:
            raise ParameterError("split '.' (PATH is one split folder) cannot be combined with other splits.",
                                 fix="give '.' alone, or split names.")
        return [(s, True) for s in dict.fromkeys(names)], names == [SINGLE_SPLIT]
    if not layout.uses_split:
        return [], False
    plan = [(s, True) for s in layout.default_splits] + [(s, False) for s in layout.splits
                                                          if s not in layout.default_splits]
    if layout.single_split and _looks_like_one_split(layout, probe):
        return [(SINGLE_SPLIT, True)], True
    return plan, False


def _split_parts(layout: Layout) -> List[Part]:
    out = []
    for e in layout.parts:
        if isinstance(e, Part):
            out.append(e)
        else:
            out.extend(p for a in e.alternatives for p in a.parts)
    return [p for p in out if p.uses_split]


def _looks_like_one_split(layout: Layout, probe: _Probe) -> bool:
    """No known split folder exists, but a required per-split part is found with ``{split}`` = PATH."""
    parts = _split_parts(layout)
    for p in parts:
        comps = p.path.split("/")
        k = next(i for i, c in enumerate(comps) if "{split}" in c)
        for s in layout.splits:
            if _has_wildcard(concrete("/".join(comps[: k + 1]), s)):
                continue
            if probe.count(concrete("/".join(comps[: k + 1]), s).rstrip("/") + "/", "dir"):
                return False
    return any(probe.count(concrete(p.path, SINGLE_SPLIT), p.kind) >= p.min for p in parts if p.required)


def _applies(entry: Entry, split: str) -> bool:
    if entry.splits is not None and split not in entry.splits:
        return False
    return split not in entry.skip_splits


class _Builder:
    def __init__(self, probe: _Probe) -> None:
        self.probe = probe
        self.items: List[Item] = []
        self.fixes: List[str] = []
        self.missing: List[MissingPart] = []
        self.misplaced: List[MisplacedPart] = []
        self.optional_split = False  # set per run: the split being checked is optional

    def fix(self, text: str) -> int:
        if text not in self.fixes:
            self.fixes.append(text)
        return self.fixes.index(text) + 1

    def part(self, part: Part, split: Optional[str], required: bool, role: str = "") -> Item:
        path = concrete(part.path, split)
        item = Item(path, part.kind, self.probe.count(path, part.kind), part.min, required,
                    _fill(part.description, split), role, optional_split=self.optional_split)
        self.items.append(item)
        return item

    def look_for_misplaced(self, part: Part, split: Optional[str], item: Item) -> bool:
        """Add the misplaced finds of ``part`` (not found at ``item``); True when there was one."""
        hit = False
        for rule in part.misplaced:
            path = concrete(rule.path, split)
            kind = "glob" if _has_wildcard(path) else "dir" if path.endswith("/") else "file"
            n = self.probe.count(path, kind)
            if not n or path == item.path:
                continue
            hit = True
            text = _fill(rule.fix, split)
            k = self.fix(text)
            item.fixes.append(k)
            self.items.append(Item(path, kind, n, 1, False, item.description, misplaced=True, fixes=[k]))
            self.misplaced.append(MisplacedPart(path, n, item.path, text))
        return hit


def _fill(text: str, split: Optional[str]) -> str:
    if split is None:
        return text
    if split == SINGLE_SPLIT:  # PATH is the split folder: "{split}/images/" -> "images/", "{split}" -> "PATH"
        return text.replace("{split}/", "").replace("{split}", "PATH")
    return text.replace("{split}", split)


def check_layout(name: str, root: PathLike, splits: Optional[Sequence[str]] = None) -> LayoutReport:
    """Check folder ``root`` against layout ``name`` (see the module docstring for ``splits``)."""
    layout = load_layout(name)
    root_s = os.fspath(root)
    if not os.path.exists(root_s):
        raise InputFileError(root_s, "does not exist", fix=f"pass the {layout.name} dataset folder: {layout.root}.")
    if not os.path.isdir(root_s):
        raise InputFileError(root_s, "is a file, not a folder", fix=f"pass the {layout.name} dataset folder: "
                                                                   f"{layout.root}.")
    probe = _Probe(root_s)
    plan, single = _plan(layout, probe, splits)
    b = _Builder(probe)
    found_in: Dict[str, int] = {s: 0 for s, _ in plan}  # present items per split
    for entry in layout.parts:
        runs = [(s, r) for s, r in plan if _applies(entry, s)] if entry.uses_split else [(None, True)]
        for split, split_required in runs:
            b.optional_split = not split_required
            before = len(b.items)
            if isinstance(entry, Part):
                _check_part(b, entry, split, entry.required and split_required)
            else:
                _check_group(b, entry, split, entry.required and split_required)
            if split is not None:
                found_in[split] += sum(it.present for it in b.items[before:])
    here = [s for s, n in found_in.items() if n]
    if here and any(r and not found_in[s] for s, r in plan):
        b.fix(f"no trace of {', '.join(s for s, r in plan if r and not found_in[s])} here; to check only the "
              f"split(s) present: --splits {','.join(here)}")
    required = tuple(s for s, r in plan if r)
    optional = tuple(s for s, r in plan if not r)
    return LayoutReport(layout=layout.name, title=layout.title, root=root_s, splits=required,
                        optional_splits=optional, single_split=single, items=_merge(b.items), missing=b.missing,
                        misplaced=b.misplaced, fixes=b.fixes)


def _check_part(b: _Builder, part: Part, split: Optional[str], required: bool) -> None:
    item = b.part(part, split, required)
    if item.present:
        return
    hit = b.look_for_misplaced(part, split, item)
    if required:
        text = _fill(part.fix, split) if part.fix else f"add {item.path}: {item.description}"
        if not hit:
            item.fixes.append(b.fix(text))
        shown = "; ".join(b.fixes[k - 1] for k in item.fixes)
        b.missing.append(MissingPart(item.path, item.description, split, shown))


def _check_group(b: _Builder, group: Group, split: Optional[str], required: bool) -> None:
    results = [[(p, b.part(p, split, p.required and required)) for p in alt.parts] for alt in group.alternatives]
    satisfied = [all(it.present for p, it in res if p.required) for res in results]
    if any(satisfied):
        for ok, res in zip(satisfied, results):
            for p, it in res:
                if it.present:
                    continue
                if ok:  # an optional part of a used alternative: say where it is if misplaced
                    b.look_for_misplaced(p, split, it)
                else:
                    it.role = "alternative"
        return
    needs, covered = [], False
    for alt, res in zip(group.alternatives, results):
        lacking = [it.path for p, it in res if p.required and not it.present]
        needs.append(f"{alt.label} ({', '.join(lacking)})" if alt.label else " + ".join(lacking))
        hits = {id(it): b.look_for_misplaced(p, split, it) for p, it in res if not it.present}
        for p, it in res:
            if not it.present:
                it.role = "one-of"
        covered |= all(hits[id(it)] for p, it in res if p.required and not it.present)
    if not required:
        return
    if not covered:  # no alternative is fully explained by misplaced finds: say what would do
        k = b.fix("add one of: " + "; or ".join(needs))
        for res in results:
            for p, it in res:
                if p.required and not it.present:
                    it.fixes.append(k)
    paths = " | ".join(" + ".join(it.path for p, it in res if p.required) for res in results)
    desc = _fill(group.description, split) or f"one of {paths}"
    ks = sorted({k for res in results for _, it in res for k in it.fixes})
    b.missing.append(MissingPart(paths, desc, split, "; ".join(b.fixes[j - 1] for j in ks)))


def _merge(items: List[Item]) -> List[Item]:
    """One item per (path, misplaced): a path reached from several splits or alternatives is shown once."""
    out: Dict[Tuple[str, bool], Item] = {}
    for it in items:
        key = (it.path, it.misplaced)
        if key not in out:
            out[key] = Item(it.path, it.kind, it.found, it.need, it.required, it.description, it.role,
                            it.misplaced, it.optional_split, list(it.fixes))
            continue
        cur = out[key]
        cur.required = cur.required or it.required
        cur.optional_split = cur.optional_split and it.optional_split
        roles = {cur.role, it.role}
        cur.role = "" if "" in roles else "one-of" if "one-of" in roles else "alternative"
        cur.fixes.extend(k for k in it.fixes if k not in cur.fixes)
    return list(out.values())


def require_layout(name: str, root: PathLike, splits: Optional[Sequence[str]] = None) -> LayoutReport:
    """:func:`check_layout`, raising :class:`~evaluators.errors.LayoutError` (with the rendered tree) when a
    required part is missing. Converters call this before reading anything."""
    report = check_layout(name, root, splits)
    if not report.ok:
        raise LayoutError(report.layout, report.root, report.render(),
                          fix=f"put the parts marked ✗ in place (the numbered fixes above), then run again; "
                              f"`dataprep check-layout {report.layout} {report.root}` shows the tree.")
    return report


# --------------------------------------------------------------------------- rendering


class _Node:
    __slots__ = ("children", "item")

    def __init__(self) -> None:
        self.children: Dict[str, "_Node"] = {}
        self.item: Optional[Item] = None


def _tree_key(item: Item) -> Tuple[List[str], str]:
    """Folders above the item, and its label: a glob shows from the folder that holds its first wildcard."""
    trailing = item.path.endswith("/")
    comps = item.path.rstrip("/").split("/")
    wild = next((i for i, c in enumerate(comps) if _has_wildcard(c)), None)
    if wild is None:
        return comps[:-1], comps[-1] + ("/" if trailing else "")
    k = max(0, wild - 1)
    return comps[:k], "/".join(comps[k:]) + ("/" if trailing else "")


def _short_braces(label: str, keep: int = 3) -> str:
    """``*.{png,jpg,jpeg,tif,...}`` -> ``*.{png,jpg,jpeg,…}`` for the tree (the fix lines keep every name)."""
    def cut(m: "re.Match[str]") -> str:
        alts = m.group(1).split(",")
        return m.group(0) if len(alts) <= keep + 1 else "{" + ",".join(alts[:keep]) + ",…}"
    return _BRACE.sub(cut, label)


def _status(item: Item) -> str:
    unit = ("folder" if item.path.endswith("/") else "file") if item.kind == "glob" else ""
    counted = f"{item.found:,} {unit}{'' if item.found == 1 else 's'}" if unit else ""
    fixes = f" → fix {', '.join(str(k) for k in item.fixes)}" if item.fixes else ""
    status = item.status
    if status == "present":
        return "✓" + (f" {counted}" if counted else "")
    if status == "misplaced":
        return "! misplaced" + (f", {counted}" if counted else "") + fixes
    short = f" ({counted}, need {item.need:,})" if unit and item.found else ""
    if status == "missing":
        role = " (one of the alternatives)" if item.role == "one-of" else ""
        return f"✗ missing{short}{role} — {item.description}{fixes}"
    if item.role == "alternative":
        return "– absent (alternative not used)" + fixes
    what = "optional split" if item.optional_split else "optional"
    if item.role == "one-of":
        what += ", one of the alternatives"
    desc = "" if item.optional_split and not item.fixes else f" — {item.description}"
    return f"– absent ({what}){short}{desc}{fixes}"


def _nest(node: "_Node") -> None:
    """Move a leaf such as ``WIDER_train/*--*/*.jpg`` under its sibling folder node ``WIDER_train/``."""
    for key in list(node.children):
        head, _, rest = key.partition("/")
        if rest and rest != "/" and head + "/" in node.children and head + "/" != key:
            target = node.children[head + "/"]
            if rest not in target.children:
                target.children[rest] = node.children.pop(key)
    for child in node.children.values():
        _nest(child)


def _render(report: LayoutReport) -> str:
    top = _Node()
    for it in report.items:
        if it.role == "alternative" and not it.present and not it.fixes:
            continue  # the unused alternative of a satisfied group: not worth a line
        dirs, label = _tree_key(it)
        node = top
        for d in dirs:
            node = node.children.setdefault(d + "/", _Node())
        leaf = node.children.setdefault(_short_braces(label), _Node())
        if leaf.item is None or (leaf.item.misplaced and not it.misplaced):
            leaf.item = it
    rows: List[Tuple[str, str]] = []

    def walk(node: _Node, prefix: str) -> None:
        keys = sorted(node.children, key=lambda k: (k.lower().rstrip("/"), k))
        for i, key in enumerate(keys):
            child, last = node.children[key], i == len(keys) - 1
            rows.append((prefix + ("└── " if last else "├── ") + key, _status(child.item) if child.item else ""))
            walk(child, prefix + ("    " if last else "│   "))

    _nest(top)
    walk(top, "")
    if report.single_split:
        splits = ". (PATH is one split folder)"
    else:
        splits = ", ".join(report.splits) or "none"
        if report.optional_splits:
            splits += f"; optional: {', '.join(report.optional_splits)}"
    name = os.path.basename(os.path.normpath(report.root)) or report.root
    width = min(64, max([len(name) + 1] + [len(r[0]) for r in rows]))
    lines = [f"{report.layout}: {report.title}", f"PATH {report.root}  (splits: {splits})", f"{name}/"]
    lines += [(f"{label:<{width}}  {status}" if status else label).rstrip() for label, status in rows]
    if report.fixes:
        lines.append("fixes:")
        lines += [f"  {k}. {text}" for k, text in enumerate(report.fixes, 1)]
    if report.ok:
        extra = f"; {len(report.misplaced)} misplaced" if report.misplaced else ""
        lines.append(f"result: ok, every required part is present{extra}")
    else:
        lines.append(f"result: NOT OK, {len(report.missing)} required part(s) missing")
    return "\n".join(lines)


__all__ = ["LAYOUT_NAMES", "Layout", "Part", "Group", "Alternative", "Rule", "Item", "MissingPart", "MisplacedPart",
           "LayoutReport", "load_layout", "parse_layout", "list_layouts", "layout_dir", "check_layout",
           "require_layout", "concrete"]
