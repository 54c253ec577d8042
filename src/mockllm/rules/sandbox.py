"""The Jinja2 sandbox reply templates run in, with their budgets.

Imported only when a config holds a template (a text with ``{{`` or ``{%``): a config of
plain texts never loads Jinja2. Budgets (:class:`~mockllm.core.limits.Limits`): a reply's
renders share ``template_timeout_ms`` of time (checked at every loop iteration, call,
filter and intercepted operator, and while output is collected); one render outputs at
most ``template_max_output`` characters; an operation that would build a bigger value
(``*``, ``+``, ``%``, ``center``, ``replace``, ``join``..., a namespace assignment, an
output expression: sizes count shared parts each time they appear, as printing would) or a
number of more than :data:`MAX_INT_DIGITS` digits (``**``, ``*``) is refused before it
runs; and the strings the filters and calls of one reply return add up to at most
:data:`BUILD_FACTOR` times ``template_max_output``. Past a budget a render raises
:class:`TemplateBudgetError` naming the limit. Nothing is evaluated when a template is
compiled (no constant folding), so loading stays fast whatever a template computes.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import TemplateRuntimeError
from jinja2.runtime import Context
from jinja2.sandbox import MAX_RANGE, ImmutableSandboxedEnvironment
from jinja2.utils import Namespace

from ..core.limits import Limits
from .templates import Budget, BudgetExceeded, TemplateContext

MAX_INT_DIGITS = 4300
"""Digits of the largest number a template may compute (Python's own limit for printing
an integer)."""
_MAX_INT_BITS = math.ceil(MAX_INT_DIGITS * math.log2(10))

BUILD_FACTOR = 10
"""The strings the filters and calls of one reply's renders return may add up to this
many times ``template_max_output`` characters (work done along the way)."""


class TemplateBudgetError(TemplateRuntimeError, BudgetExceeded):
    """A template went past one of its budgets (time, output size, value size)."""


_active: ContextVar[Budget | None] = ContextVar("mockllm_template_budget", default=None)
"""The budget of the render in progress (None outside :meth:`Text.render`)."""


def _timed_out(budget: Budget) -> TemplateBudgetError:
    return TemplateBudgetError(
        f"template exceeded its {budget.timeout_ms} ms budget (MOCKLLM_LIMIT_TEMPLATE_TIMEOUT_MS)"
    )


def weight(value: Any, cap: int) -> int:
    """About how many characters ``value`` prints as, counting a part shared by several
    places (``[x] * 1000``, ``[a, a]``) each time, as printing does; stops counting past
    ``cap`` (so it takes at most about ``cap`` steps, whatever the value)."""
    if isinstance(value, str | bytes):
        return len(value)
    if not isinstance(value, list | tuple | set | frozenset | dict):  # a scalar
        if isinstance(value, int) and not isinstance(value, bool):
            return value.bit_length() // 3 + 1
        return 1
    total = 0
    todo: list[Any] = [value]
    while todo and total <= cap:
        item = todo.pop()
        if isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, list | tuple | set | frozenset | dict):
            total += 2 + 2 * len(item)  # brackets and separators
            if total <= cap:
                todo.extend(itertools.islice(item, cap))
                if isinstance(item, dict):
                    todo.extend(itertools.islice(item.values(), cap))
        elif isinstance(item, int) and not isinstance(item, bool):
            total += item.bit_length() // 3 + 1
        else:
            total += 1
    return total


def _tick(lineno: int) -> nodes.Call:
    """``environment.tick()`` (no template can write this node: its source has no access
    to the environment)."""
    return nodes.Call(
        nodes.EnvironmentAttribute("tick", lineno=lineno), [], [], None, None, lineno=lineno
    )


class _TickingCodeGenerator(CodeGenerator):
    """Jinja's code generator, with a budget check (``environment.tick()``, called
    directly) at each iteration of every ``for`` loop and of its ``if`` filter, so that
    nested loops over anything stop at the render's deadline."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        node.body = [nodes.ExprStmt(_tick(node.lineno), lineno=node.lineno), *node.body]
        if node.test is not None:
            node.test = nodes.And(_tick(node.lineno), node.test, lineno=node.lineno)
        super().visit_For(node, frame)

    def visit_Call(self, node: nodes.Call, frame: Frame, forward_caller: bool = False) -> None:
        target = node.node
        if isinstance(target, nodes.EnvironmentAttribute) and target.name == "tick":
            self.write("environment.tick()")  # not through the sandbox's call()
            return
        super().visit_Call(node, frame, forward_caller=forward_caller)


@pass_context
def _finalize(context: Context, value: Any) -> Any:
    """Output as is, once its size is checked (printing a value shared many times over
    could take any memory). Taking the context also tells Jinja's compiler that output
    expressions cannot be computed at compile time (it folds constants otherwise, even
    unoptimized)."""
    env = context.environment
    if isinstance(env, SandboxEnvironment) and not isinstance(value, str):
        env.refuse_size(weight(value, env.limits.template_max_output), "printing this value")
    return value


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\d+|\*)?(?:\.(\d+|\*))?")
"""A ``%`` conversion's width and precision."""
_BRACE_SPEC = re.compile(r"\{[^{}]*?:([^{}]*)\}")
"""A ``str.format`` field's format spec."""
_NESTED_SPEC = re.compile(r"\{[^{}]*\{")
"""A ``str.format`` spec taking a width from the arguments (``{:{}}``)."""


class SandboxEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with budgets (:class:`~mockllm.core.limits.Limits`): no
    constant folding at compile time; ``*``, ``**``, ``+`` and ``%`` checked before they
    run; every call and loop iteration checks the render's deadline; growing filters,
    string methods and namespace assignments checked against the output budget."""

    code_generator_class = _TickingCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, limits: Limits | None = None) -> None:
        super().__init__(
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            optimized=False,
            finalize=_finalize,
        )
        self.limits = limits or Limits()
        self.globals["namespace"] = _namespace_class(self)
        _guard_filters(self)

    # --- time ---------------------------------------------------------------------------

    def tick(self) -> bool:
        """Raise :class:`TemplateBudgetError` when the render in progress is past its
        deadline; True otherwise (it is called from loop conditions too)."""
        budget = _active.get()
        if budget is not None and time.monotonic() > budget.deadline:
            raise _timed_out(budget)
        return True

    # --- size ---------------------------------------------------------------------------

    def refuse_size(self, size: int, what: str) -> None:
        """Raise :class:`TemplateBudgetError` when ``size`` characters (or items; a lower
        bound, as :func:`weight` gives) are more than one render may produce."""
        limit = self.limits.template_max_output
        if size > limit:
            raise TemplateBudgetError(
                f"{what} would make at least {size} characters or items, over the template "
                f"output budget of {limit} (MOCKLLM_LIMIT_TEMPLATE_MAX_OUTPUT)"
            )

    def refuse_bits(self, bits: int, what: str) -> None:
        """Raise :class:`TemplateBudgetError` for a number of about ``bits`` bits past
        :data:`MAX_INT_DIGITS` digits."""
        if bits > _MAX_INT_BITS:
            digits = int(bits * math.log10(2))
            raise TemplateBudgetError(
                f"{what} would make a number of about {digits} digits; template numbers "
                f"are limited to {MAX_INT_DIGITS} digits"
            )

    def check_value(self, value: Any, what: str) -> None:
        """Refuse a value too big to keep (a string, list or number past the budgets)."""
        if isinstance(value, int) and not isinstance(value, bool):
            self.refuse_bits(value.bit_length(), what)
        else:
            self.refuse_size(weight(value, self.limits.template_max_output), what)

    def account(self, value: Any, what: str, budget: Budget | None) -> Any:
        """``value``, a string a filter or call returned, counted against what the reply's
        renders may build (:data:`BUILD_FACTOR`); ``budget``: the render's."""
        if budget is not None and isinstance(value, str | bytes):
            if len(value) >= 1024:  # the same big string again (tool_result(...)) is free
                if id(value) in budget.seen:
                    return value
                budget.seen.add(id(value))
            budget.built += len(value)
            cap = BUILD_FACTOR * self.limits.template_max_output
            if budget.built > cap:
                raise TemplateBudgetError(
                    f"the template built more than {cap} characters along the way "
                    f"({what}; {BUILD_FACTOR} x MOCKLLM_LIMIT_TEMPLATE_MAX_OUTPUT)"
                )
        return value

    def check_format(self, fmt: str, args: Any, what: str, *, braces: bool = False) -> None:
        """Refuse a format string (``%``, or ``str.format`` when ``braces``) asking for a
        field wider than the output budget, directly (``%9999999d``, ``{:>9999999}``) or
        through a width taken from its arguments (``%*d``, ``{:{}}``); ``args`` as ``%``
        takes them (one value, a tuple or a mapping)."""
        if braces:
            numbers = [n for spec in _BRACE_SPEC.findall(fmt) for n in re.findall(r"\d+", spec)]
            from_args = _NESTED_SPEC.search(fmt) is not None
        else:
            found = _PERCENT_SPEC.findall(fmt)
            numbers = [n for pair in found for n in pair if n.isdigit()]
            from_args = any("*" in pair for pair in found)
        for digits in numbers:
            self.refuse_size(int(digits) if len(digits) <= 18 else 10**18, what)
        if from_args:
            if isinstance(args, dict):
                values = list(args.values())
            elif isinstance(args, tuple | list):
                values = list(args)
            else:
                values = [args]
            for value in values:
                if isinstance(value, int):
                    self.refuse_size(value, what)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """``left operator right`` for ``*``, ``**``, ``+`` and ``%``, refused before it
        runs when the result would be past a budget."""
        self.tick()
        what = f"{operator!r}"
        cap = self.limits.template_max_output
        sized = (str, bytes, list, tuple)
        if operator == "*":
            if isinstance(left, sized) and isinstance(right, int):
                self.refuse_size(weight(left, cap) * max(right, 0), what)
            elif isinstance(right, sized) and isinstance(left, int):
                self.refuse_size(weight(right, cap) * max(left, 0), what)
            elif isinstance(left, int) and isinstance(right, int):
                self.refuse_bits(left.bit_length() + right.bit_length(), what)
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
                self.refuse_bits(right * (abs(left).bit_length() - 1), what)
        elif operator == "+":
            if isinstance(left, sized) and isinstance(right, sized):
                self.refuse_size(weight(left, cap) + weight(right, cap), what)
        elif operator == "%" and isinstance(left, str):
            self.check_format(left, right, what)
        result = super().call_binop(context, operator, left, right)
        self.check_value(result, what)
        return result

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Call ``obj`` from a template: checks the deadline, and the size of what a
        string method (``ljust``, ``replace``, ``join``, ``format``...) would build."""
        self.tick()
        args = _check_method(self, obj, args, kwargs)
        return self.account(super().call(context, obj, *args, **kwargs), "a call", _active.get())


def _int_arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name)


def _replace_size(text: Any, old: Any, new: Any, count: Any) -> int:
    """Length of ``text.replace(old, new, count)``, at most (0 when it cannot tell)."""
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        hits = text.count(old) if old else len(text) + 1
    elif isinstance(text, bytes) and isinstance(old, bytes) and isinstance(new, bytes):
        hits = text.count(old) if old else len(text) + 1
    else:
        return 0
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * max(len(new) - len(old), 0)


def _check_method(
    env: SandboxEnvironment, obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, ...]:
    """``args`` (an iterator to join made a list), once sure that a call of a
    ``str``/``bytes`` method would not build a value past the output budget."""
    wrapped = getattr(obj, "__wrapped__", obj)  # the sandbox wraps str.format
    owner = getattr(wrapped, "__self__", None)
    if not isinstance(owner, str | bytes):
        return args
    name = getattr(wrapped, "__name__", "")
    what = f"{name}()"
    if name in ("ljust", "rjust", "center", "zfill"):
        width = _int_arg(args, kwargs, 0, "width")
        if isinstance(width, int):
            env.refuse_size(width, what)
    elif name == "expandtabs":
        size = _int_arg(args, kwargs, 0, "tabsize")
        tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
        if isinstance(size, int):
            env.refuse_size(len(owner) + tabs * size, what)
    elif name == "replace":
        env.refuse_size(
            _replace_size(
                owner,
                _int_arg(args, kwargs, 0, "old"),
                _int_arg(args, kwargs, 1, "new"),
                _int_arg(args, kwargs, 2, "count"),
            ),
            what,
        )
    elif name == "join" and args:
        items = args[0] if isinstance(args[0], list | tuple) else list(args[0])
        cap = env.limits.template_max_output
        env.refuse_size(weight(items, cap) + len(owner) * max(len(items) - 1, 0), what)
        args = (items, *args[1:])
    elif name in ("format", "format_map") and isinstance(owner, str):
        env.check_format(owner, [*args, *kwargs.values()], what, braces=True)
        env.refuse_size(weight([*args, *kwargs.values()], env.limits.template_max_output), what)
    return args


def _namespace_class(env: SandboxEnvironment) -> type[Namespace]:
    """``namespace()`` whose assignments (``{% set ns.x = ... %}``, which can carry a value
    from one loop iteration to the next) are refused past the budgets."""

    class GuardedNamespace(Namespace):
        def __setitem__(self, name: str, value: Any) -> None:
            env.check_value(value, f"namespace attribute {name!r}")
            super().__setitem__(name, value)

    return GuardedNamespace


def _guard_filters(env: SandboxEnvironment) -> None:
    """Wrap every filter: each call checks the deadline, the filters that can build a value
    much bigger than their input check the size first, and the strings all of them return
    are accounted (:meth:`SandboxEnvironment.account`); how Jinja passes them its context
    is kept."""
    cap = env.limits.template_max_output

    def guard(name: str, original: Any, check: Callable[..., Any] | None) -> Any:
        skip = 1 if getattr(original, "jinja_pass_arg", None) is not None else 0
        what = f"filter {name}"

        @functools.wraps(original)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            budget = _active.get()
            if budget is not None and time.monotonic() > budget.deadline:
                raise _timed_out(budget)  # map() chains call filters without a loop
            if check is not None:
                value = check(*args[skip:], **kwargs)
                if value is not None:  # an iterator made a list
                    args = (*args[:skip], value, *args[skip + 1 :])
            return env.account(original(*args, **kwargs), what, budget)

        return guarded

    def center(value: Any, width: Any = 80, **_: Any) -> None:
        if isinstance(width, int):
            env.refuse_size(width, "center")

    def indent(value: Any, width: Any = 4, *_: Any, **kwargs: Any) -> None:
        width = kwargs.get("width", width)
        lines = str(value).count("\n") + 1
        each = width if isinstance(width, int) else len(str(width))
        env.refuse_size(len(str(value)) + lines * each, "indent")

    def format_(value: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(value, str):
            env.check_format(value, kwargs or args, "format")
            env.refuse_size(weight([*args, *kwargs.values()], cap), "format")

    def replace(value: Any, old: Any = "", new: Any = "", count: Any = None) -> None:
        env.refuse_size(_replace_size(str(value), old, new, count), "replace")

    def join(value: Any, d: Any = "", *_: Any, **kwargs: Any) -> list[Any]:
        items = value if isinstance(value, list) else list(value)
        d = kwargs.get("d", d)
        between = len(d) * max(len(items) - 1, 0) if isinstance(d, str) else 0
        env.refuse_size(weight(items, cap) + between, "join")
        return items

    def stringify(name: str) -> Callable[..., None]:
        def check(value: Any, *_: Any, **__: Any) -> None:
            env.refuse_size(weight(value, cap), name)

        return check

    def wordwrap(value: Any, width: Any = 79, *args: Any, **kwargs: Any) -> None:
        wrap = kwargs.get("wrapstring", args[1] if len(args) > 1 else None)
        if isinstance(width, int) and isinstance(wrap, str):
            text = str(value)
            env.refuse_size(len(text) + (len(text) // max(width, 1) + 1) * len(wrap), "wordwrap")

    def pieces(value: Any, count: Any = 1, *_: Any, **__: Any) -> None:
        if isinstance(count, int) and count > MAX_RANGE:
            raise TemplateBudgetError(f"{count} pieces is too many (at most {MAX_RANGE})")

    checks: dict[str, Callable[..., Any]] = {
        "center": center,
        "indent": indent,
        "format": format_,
        "replace": replace,
        "join": join,
        "wordwrap": wordwrap,
        "slice": pieces,
        "batch": pieces,
        **{name: stringify(name) for name in ("string", "tojson", "pprint", "xmlattr")},
    }
    for name, original in list(env.filters.items()):
        env.filters[name] = guard(name, original, checks.get(name))


def new_environment(limits: Limits | None = None) -> SandboxEnvironment:
    """The sandbox templates run in: no attribute access to internals, no mutation of the
    request, undefined names are errors, and the budgets of ``limits`` (default
    :class:`~mockllm.core.limits.Limits`) hold (see the module docstring)."""
    return SandboxEnvironment(limits)


_CLOCK_EVERY = 256
"""Output pieces between two looks at the clock while a render's output is collected."""


def render(template: Template, context: TemplateContext) -> str:
    """``template`` rendered for one request, counting what comes out. Raises
    :class:`TemplateError` from the template, and :class:`TemplateBudgetError` past the time
    budget (shared by every render of ``context``) or the output budget of the template's
    environment."""
    env = template.environment
    limits: Limits = getattr(env, "limits", None) or Limits()
    budget = context.budget(limits.template_timeout_ms)
    limit, deadline = limits.template_max_output, budget.deadline
    token = _active.set(budget)
    parts: list[str] = []
    append, size, countdown = parts.append, 0, _CLOCK_EVERY
    try:  # as Template.render does, counting what comes out
        for part in template.root_render_func(template.new_context(context.variables())):
            size += len(part)
            if size > limit:
                raise TemplateBudgetError(
                    f"template output exceeded its budget of {limit} characters "
                    "(MOCKLLM_LIMIT_TEMPLATE_MAX_OUTPUT)"
                )
            append(part)
            countdown -= 1
            if not countdown:  # loops, calls and operators check the clock too
                countdown = _CLOCK_EVERY
                if time.monotonic() > deadline:
                    raise _timed_out(budget)
    except Exception:
        env.handle_exception()  # re-raised with the template's lines in the traceback
    finally:
        _active.reset(token)
    return "".join(parts)


def undefined(hint: str) -> Any:
    """A value that fails the render naming ``hint`` when printed (``is defined`` is false)."""
    return StrictUndefined(hint=hint)


__all__ = [
    "BUILD_FACTOR",
    "MAX_INT_DIGITS",
    "SandboxEnvironment",
    "TemplateBudgetError",
    "TemplateError",
    "new_environment",
    "render",
    "undefined",
    "weight",
]
