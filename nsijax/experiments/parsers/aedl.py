"""A parser of the GLoBES AEDL subset used by long-baseline configurations (the DUNE TDR files).

AEDL is the "Abstract Experiment Definition Language" of GLoBES (Huber, Kopp, Lindner, Rolinec, Winter,
hep-ph/0407333, hep-ph/0701187; GLoBES manual, chapter "Experiment definition with AEDL"). Supported:

* comments ``/* ... */`` and ``// ...``; the magic first line ``%!GLoBES``;
* ``include "file"`` (path relative to the including file or, failing that, to the main .glb file's
  folder, which is what the DUNE files assume; recursive, cycles are an error);
* variables ``NAME = expr`` (numbers, earlier variables, ``+ - * / ^`` and parentheses);
* ``$key = expr | "string" | {list}``;
* ``%name = {list}``, ``%name = copy(%other)``, ``%name = samplingbincenter()``, ``%name = bincenter()``;
* environments ``nuflux(#n)<...>``, ``cross(#n)<...>``, ``energy(#n)<...>``, ``channel(#n)<...>``,
  ``rule(#n)<...>``, ``sys(#n)<...>``, each a list of ``@attribute = value``. A value is one item or
  items separated by ``:`` (optionally ended by ``;``); an item is an expression, a string, a list
  ``{...}`` (of expressions or ``#names``), ``copy(%x)``, ``#name``, a polarity ``+``/``-``, a flavour
  (``e m t``, ``NOSC_e ...``) or ``coefficient @ #channel``. ``energy`` rows are
  ``{lo, hi, m_lo, ..., m_hi}`` lists (``@energy = {...}:{...}:...;``).

An environment may be declared empty (``energy(#x)<>``) and defined later with the same name (the DUNE
files do this for every smearing matrix): the non-empty definition is used. Two non-empty
definitions of one name are an error. Everything else (other environments, ``@type`` smearing
functions, ``@sigma_e``, built-in fluxes, unknown syntax) raises
:class:`~nsijax.errors.InvalidSpecError` naming the file and line; the semantic checks (what a
channel or rule must contain) are done by the consumer, :mod:`nsijax.experiments.oscillation.beam`,
which also reports the file and line recorded here for every environment and attribute.
"""

from __future__ import annotations

import dataclasses
import math
import pathlib
import re
from typing import Any

from ...errors import InvalidSpecError

#: Environments this parser understands.
ENVIRONMENTS = ("nuflux", "cross", "energy", "channel", "rule", "sys")

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\f\v]+)
  | (?P<nl>\n)
  | (?P<bcomment>/\*)
  | (?P<lcomment>//[^\n]*)
  | (?P<numlist>\{[0-9eE+\-.,\s]*\})
  | (?P<string>"[^"\n]*")
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<dollar>\$[A-Za-z_]\w*)
  | (?P<percent>%[A-Za-z_]\w*)
  | (?P<hash>\#[A-Za-z_]\w*)
  | (?P<attr>@[A-Za-z_]\w*)
  | (?P<name>[A-Za-z_]\w*)
  | (?P<punct>[=\{\},:;<>()+\-*/^@])
    """,
    re.VERBOSE,
)


@dataclasses.dataclass(frozen=True)
class Token:
    kind: str  # string, number, dollar, percent, hash, attr, name, punct, eof
    text: str
    file: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.file}, line {self.line}"


@dataclasses.dataclass(frozen=True)
class Ref:
    """A ``#name`` reference (flux, cross section, smearing, channel, systematic)."""

    name: str


@dataclasses.dataclass(frozen=True)
class Weighted:
    """``coefficient @ #channel`` in a rule's @signal / @background."""

    coef: float
    ref: str


@dataclasses.dataclass(frozen=True)
class Symbol:
    """A bare symbol inside an attribute value: a polarity (+ / -) or a flavour (e, m, t, NOSC_m, ...)."""

    name: str


@dataclasses.dataclass
class Attribute:
    value: Any
    where: str  # "file, line N"
    file: str = ""  # the file it was written in (file names in it are relative to this file)


@dataclasses.dataclass
class Environment:
    kind: str
    name: str
    attrs: dict[str, Attribute]
    where: str

    def get(self, key: str, default=None):
        a = self.attrs.get(key)
        return default if a is None else a.value

    def require(self, key: str):
        if key not in self.attrs:
            raise InvalidSpecError(f"{self.where}: {self.kind}(#{self.name}) has no @{key}")
        return self.attrs[key].value

    def where_of(self, key: str) -> str:
        a = self.attrs.get(key)
        return self.where if a is None else a.where


@dataclasses.dataclass
class AEDLFile:
    """The parsed content of a .glb file and its includes."""

    path: pathlib.Path
    variables: dict[str, float]
    globals: dict[str, Attribute]  # "$key" without the dollar
    lists: dict[str, Attribute]  # "%name" without the percent: list of floats or ("samplingbincenter"|"bincenter")
    environments: dict[str, dict[str, Environment]]  # kind -> name -> Environment (definition order)

    def env(self, kind: str, name: str, where: str) -> Environment:
        try:
            return self.environments[kind][name]
        except KeyError:
            raise InvalidSpecError(f"{where}: unknown {kind} #{name}") from None

    def glob(self, key: str, default=None):
        a = self.globals.get(key)
        return default if a is None else a.value

    def glob_where(self, key: str) -> str:
        a = self.globals.get(key)
        return str(self.path) if a is None else a.where


# ----------------------------------------------------------------------------------------------
# lexer


def resolve(name: str, including: pathlib.Path, main: pathlib.Path) -> pathlib.Path:
    """A file named in AEDL: relative to the including file, else to the main .glb file's folder (GLoBES
    opens names relative to the working directory, and the DUNE files assume the main file's folder)."""
    first = pathlib.Path(including).parent / name
    if first.is_file():
        return first
    second = pathlib.Path(main).parent / name
    return second if second.is_file() else first


def _lex(path: pathlib.Path, stack: tuple[pathlib.Path, ...] = (), main: pathlib.Path | None = None) -> list[Token]:
    """Tokens of ``path`` with every ``include`` expanded in place (each token keeps its own file/line)."""
    path = pathlib.Path(path)
    main = path if main is None else main
    if not path.is_file():
        where = f"{stack[-1]}" if stack else "AEDL"
        raise InvalidSpecError(f"{where}: AEDL file not found: {path}")
    resolved = path.resolve()
    if resolved in stack:
        raise InvalidSpecError(f"{path}: include cycle ({' -> '.join(str(s) for s in (*stack, resolved))})")
    text = path.read_text(encoding="utf-8", errors="replace")
    fname = str(path)
    line = 1
    pos = 0
    if text.startswith("%!"):  # magic first line "%!GLoBES"
        nl = text.find("\n")
        pos = len(text) if nl < 0 else nl
    raw: list[Token] = []
    n = len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if m is None:
            raise InvalidSpecError(f"{fname}, line {line}: unexpected character {text[pos]!r}")
        kind = m.lastgroup
        s = m.group()
        if kind == "bcomment":
            end = text.find("*/", pos + 2)
            if end < 0:
                raise InvalidSpecError(f"{fname}, line {line}: unterminated /* comment")
            line += text.count("\n", pos, end)
            pos = end + 2
            continue
        pos = m.end()
        if kind == "nl":
            line += 1
            continue
        if kind in ("ws", "lcomment"):
            continue
        raw.append(Token(kind, s, fname, line))
        if kind == "numlist":
            line += s.count("\n")
    # expand includes
    out: list[Token] = []
    i = 0
    while i < len(raw):
        t = raw[i]
        if t.kind == "name" and t.text == "include":
            if i + 1 >= len(raw) or raw[i + 1].kind != "string":
                raise InvalidSpecError(f"{t.where}: include needs a quoted file name")
            target = resolve(raw[i + 1].text[1:-1], path, main)
            if not target.is_file():
                raise InvalidSpecError(f"{t.where}: included file not found: {raw[i + 1].text}")
            out.extend(_lex(target, (*stack, resolved), main))
            i += 2
            continue
        out.append(t)
        i += 1
    return out


# ----------------------------------------------------------------------------------------------
# parser


class _Parser:
    def __init__(self, tokens: list[Token], path: pathlib.Path):
        self.toks = tokens
        self.i = 0
        self.path = path
        end = tokens[-1] if tokens else Token("eof", "", str(path), 1)
        self.eof = Token("eof", "<end of file>", end.file, end.line)
        self.variables: dict[str, float] = {}
        self.globals: dict[str, Attribute] = {}
        self.lists: dict[str, Attribute] = {}
        self.envs: dict[str, dict[str, Environment]] = {k: {} for k in ENVIRONMENTS}

    # -- token helpers --------------------------------------------------------------------------
    def peek(self, k: int = 0) -> Token:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else self.eof

    def next(self) -> Token:
        t = self.peek()
        self.i += 1
        return t

    def is_punct(self, text: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t.kind == "punct" and t.text == text

    def expect(self, text: str, what: str = "") -> Token:
        t = self.next()
        if t.kind != "punct" or t.text != text:
            raise InvalidSpecError(f"{t.where}: expected {text!r}{' ' + what if what else ''}; got {t.text!r}")
        return t

    # -- expressions ---------------------------------------------------------------------------
    def expr(self) -> float:
        v = self.term()
        while self.peek().kind == "punct" and self.peek().text in "+-" and self._starts_operand(1):
            op = self.next().text
            w = self.term()
            v = v + w if op == "+" else v - w
        return v

    def _starts_operand(self, k: int) -> bool:
        t = self.peek(k)
        return t.kind in ("number", "name") or (t.kind == "punct" and t.text in "(-+")

    def term(self) -> float:
        v = self.power()
        while self.peek().kind == "punct" and self.peek().text in "*/":
            op = self.next()
            w = self.power()
            if op.text == "/" and w == 0:
                raise InvalidSpecError(f"{op.where}: division by zero")
            v = v * w if op.text == "*" else v / w
        return v

    def power(self) -> float:
        v = self.factor()
        if self.is_punct("^"):
            op = self.next()
            w = self.power()
            try:
                v = float(v**w)
            except (OverflowError, ZeroDivisionError, TypeError):
                raise InvalidSpecError(f"{op.where}: invalid power {v}^{w}") from None
        return v

    def factor(self) -> float:
        t = self.next()
        if t.kind == "punct" and t.text in "+-":
            v = self.power()
            return -v if t.text == "-" else v
        if t.kind == "number":
            return float(t.text)
        if t.kind == "name":
            if t.text not in self.variables:
                raise InvalidSpecError(f"{t.where}: undefined variable {t.text!r}")
            return self.variables[t.text]
        if t.kind == "punct" and t.text == "(":
            v = self.expr()
            self.expect(")", "closing the parenthesis")
            return v
        raise InvalidSpecError(f"{t.where}: expected a number or a variable; got {t.text!r}")

    # -- values --------------------------------------------------------------------------------
    def list_(self) -> list:
        t = self.peek()
        if t.kind == "numlist":  # fast path: a {...} of plain numbers
            self.next()
            body = t.text[1:-1].strip()
            if not body:
                return []
            try:
                return [float(x) for x in body.split(",")]
            except ValueError:
                raise InvalidSpecError(f"{t.where}: malformed list of numbers {t.text[:60]!r}") from None
        self.expect("{")
        out: list = []
        if self.is_punct("}"):
            self.next()
            return out
        while True:
            t = self.peek()
            if t.kind == "hash":
                self.next()
                out.append(Ref(t.text[1:]))
            else:
                out.append(self.expr())
            t = self.next()
            if t.kind == "punct" and t.text == "}":
                return out
            if not (t.kind == "punct" and t.text == ","):
                raise InvalidSpecError(f"{t.where}: expected ',' or '}}' in a list; got {t.text!r}")

    def copy_(self) -> list:
        self.next()  # copy
        self.expect("(", "after copy")
        t = self.next()
        if t.kind != "percent":
            raise InvalidSpecError(f"{t.where}: copy() takes a %list; got {t.text!r}")
        name = t.text[1:]
        if name not in self.lists:
            raise InvalidSpecError(f"{t.where}: copy of undefined list %{name}")
        self.expect(")", "closing copy(")
        return self.lists[name].value

    def item(self):
        t = self.peek()
        if t.kind == "string":
            self.next()
            return t.text[1:-1]
        if t.kind == "numlist" or (t.kind == "punct" and t.text == "{"):
            return self.list_()
        if t.kind == "hash":
            self.next()
            return Ref(t.text[1:])
        if t.kind == "name" and t.text == "copy" and self.is_punct("(", 1):
            return self.copy_()
        if t.kind == "punct" and t.text in "+-" and self._ends_item(1):
            self.next()
            return Symbol(t.text)
        if t.kind == "name" and t.text not in self.variables and self._ends_item(1):
            self.next()
            return Symbol(t.text)  # flavour (e, m, t, NOSC_e, ...)
        v = self.expr()
        if self.is_punct("@") and self.peek(1).kind == "hash":
            self.next()
            return Weighted(v, self.next().text[1:])
        return v

    def _ends_item(self, k: int) -> bool:
        t = self.peek(k)
        return t.kind in ("attr", "eof") or (t.kind == "punct" and t.text in ":;>")

    def value(self):
        items = [self.item()]
        sep = False
        while self.is_punct(":"):
            self.next()
            sep = True
            items.append(self.item())
        if self.is_punct(";"):
            self.next()
            sep = True
        return items if sep else items[0]

    # -- statements ----------------------------------------------------------------------------
    def parse(self) -> AEDLFile:
        while self.peek().kind != "eof":
            t = self.peek()
            if t.kind == "dollar":
                self.next()
                self.expect("=", f"after {t.text}")
                self.globals[t.text[1:]] = Attribute(self.value(), t.where, t.file)
            elif t.kind == "percent":
                self.next()
                self.expect("=", f"after {t.text}")
                self.lists[t.text[1:]] = Attribute(self.list_value(), t.where, t.file)
            elif t.kind == "name" and t.text in ENVIRONMENTS and self.is_punct("(", 1):
                self.environment()
            elif t.kind == "name" and self.is_punct("=", 1):
                self.next()
                self.next()
                self.variables[t.text] = self.expr()
            else:
                raise InvalidSpecError(f"{t.where}: unsupported or malformed AEDL statement starting with {t.text!r}")
        return AEDLFile(self.path, self.variables, self.globals, self.lists, self.envs)

    def list_value(self):
        t = self.peek()
        if t.kind == "name" and t.text in ("samplingbincenter", "bincenter") and self.is_punct("(", 1):
            self.next()
            self.expect("(")
            self.expect(")")
            return t.text
        if t.kind == "name" and t.text == "copy":
            return list(self.copy_())
        if t.kind == "numlist" or (t.kind == "punct" and t.text == "{"):
            vals = self.list_()
            if any(isinstance(v, Ref) for v in vals):
                raise InvalidSpecError(f"{t.where}: a %list holds numbers only")
            return vals
        raise InvalidSpecError(
            f"{t.where}: expected {{...}}, copy(%x), samplingbincenter() or bincenter(); got {t.text!r}"
        )

    def environment(self):
        kw = self.next()
        self.expect("(", f"after {kw.text}")
        nt = self.next()
        if nt.kind != "hash":
            raise InvalidSpecError(f"{nt.where}: {kw.text}( needs a #name; got {nt.text!r}")
        self.expect(")", f"after {kw.text}(#{nt.text[1:]}")
        self.expect("<", f"opening {kw.text}(#{nt.text[1:]})")
        attrs: dict[str, Attribute] = {}
        while True:
            t = self.peek()
            if t.kind == "punct" and t.text == ">":
                self.next()
                break
            if t.kind != "attr":
                raise InvalidSpecError(
                    f"{t.where}: expected an @attribute or '>' in {kw.text}(#{nt.text[1:]}); got {t.text!r}"
                )
            self.next()
            self.expect("=", f"after {t.text}")
            key = t.text[1:]
            if key in attrs:
                raise InvalidSpecError(f"{t.where}: @{key} given twice in {kw.text}(#{nt.text[1:]})")
            attrs[key] = Attribute(self.value(), t.where, t.file)
        name = nt.text[1:]
        table = self.envs[kw.text]
        old = table.get(name)
        if old is not None and old.attrs and attrs:
            raise InvalidSpecError(f"{kw.where}: {kw.text}(#{name}) defined twice (first at {old.where})")
        if old is None or attrs:
            table[name] = Environment(kw.text, name, attrs, kw.where)


def parse(path: str | pathlib.Path) -> AEDLFile:
    """Parse a GLoBES .glb file (and its includes) into an :class:`AEDLFile`.

    Raises:
        InvalidSpecError: naming the file and line, for malformed or unsupported input and missing
            files.
    """
    path = pathlib.Path(path)
    return _Parser(_lex(path), path).parse()


def number(value, where: str, what: str) -> float:
    """``value`` as a finite float (an AEDL attribute that must be a single number)."""
    if isinstance(value, Symbol):
        raise InvalidSpecError(f"{where}: {what}: undefined variable {value.name!r}")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidSpecError(f"{where}: {what} must be a finite number; got {value!r}")
    return float(value)


def numbers(value, where: str, what: str) -> list[float]:
    """``value`` as a list of finite floats."""
    if not isinstance(value, list) or not all(isinstance(v, int | float) and math.isfinite(v) for v in value):
        raise InvalidSpecError(f"{where}: {what} must be a list of numbers; got {value!r}")
    return [float(v) for v in value]
