"""model.summary(): Keras 3's table, drawn the way its rich console draws it.

Keras sizes a Sequential summary to L = min(88, terminal columns − 4) characters, splits it at
[0.45, 0.80, 1.0] of L, adds one space of padding on each side of every cell, and (because the
three fixed columns then exceed the table) takes the excess back from the columns evenly, using
Python's round() as rich does.
"""

from __future__ import annotations

import shutil
import textwrap

_POSITIONS = (0.45, 0.80, 1.0)
_GRAPH_POSITIONS = (0.3, 0.56, 0.74, 1.0)  # a Functional graph's, with "Connected to"
_HEADERS = ("Layer (type)", "Output Shape", "Param #")


def column_widths(line_length: int, positions=_POSITIONS) -> list[int]:
    """Cell widths (padding included, borders not), as rich computes them."""
    widths, current = [], 0
    for pos in positions:
        w = int(pos * line_length) if pos <= 1 else int(pos)
        if w - current < 4:
            raise ValueError("summary: insufficient console width to print the summary.")
        widths.append(w - current + 2)
        current = w
    excess = sum(widths) - (line_length - (len(widths) + 1))
    result, ratio_total = [], len(widths)
    for w in widths:
        take = min(w, round(excess / ratio_total)) if excess > 0 else 0
        result.append(w - take)
        excess -= take
        ratio_total -= 1
    return result


def readable_memory_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            break
        size /= 1024
    return f"{size:.2f} {unit}"


def _shape_text(shape) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_text(s) for s in shape) + "]"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _params(layer) -> str:
    return f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"


def _row(layer, shape_text) -> tuple:
    return f"{layer.name} ({type(layer).__name__})", shape_text, _params(layer)


def _sequential_rows(model):
    shape = model._batch_input_shape
    for layer in model.layers:
        if shape is not None and layer.built:
            shape = layer.compute_output_shape(shape)
            yield _row(layer, _shape_text(shape))
        else:
            yield _row(layer, "?")


def _node_shapes_text(layer) -> str:
    """Keras's output shape of a layer: that of its last call on symbolic tensors, else of its
    build shape, else "?"."""
    nodes = getattr(layer, "_inbound_nodes", [])
    if nodes:  # Keras lists a call's outputs flat: "[(None, 4), (None, 4), (None, 4)]"
        flat = [_shape_text(t.shape) for t in nodes[-1].outputs]
        return flat[0] if len(flat) == 1 else "[" + ", ".join(flat) + "]"
    shape = getattr(layer, "_build_shape", None)
    if shape is None or not layer.built or not layer._has_output_shape_rule():
        return "?"  # Keras shows "?" for a layer that does not compute its output shape
    return _shape_text(layer.compute_output_shape(shape))


def _connections(layer, own_nodes) -> str:
    names = []
    for node in getattr(layer, "_inbound_nodes", []):
        if id(node) not in own_nodes:
            continue
        for t in node.input_tensors:
            source, node_index, tensor_index = t._keras_history
            names.append(f"{source.name}[{node_index}][{tensor_index}]")
    return ", ".join(names) or "-"


def _sequential_like(model) -> bool:
    """Keras's test: a graph with one node per depth, each of one input, and no layer called
    twice, prints as a Sequential model does."""
    nodes = []
    for depth in sorted(model._nodes_by_depth):
        level = model._nodes_by_depth[depth]
        if len(level) > 1 or (len(level) == 1 and len(level[0].input_tensors) > 1):
            return False
        nodes += level
    own = {id(n) for n in nodes}
    return all(sum(id(n) in own for n in getattr(layer, "_inbound_nodes", [])) <= 1
               for layer in model.layers)


def _rows(model, connected: bool, expand_nested: bool = False, level: int = 0):
    """One row per layer; with expand_nested, a model's layers follow its row, indented as
    Keras indents them ("   └ name")."""
    from .functional import Functional
    from .model import Model
    from .sequential import Sequential

    prefix = "   " * level + "└ " if level else ""
    if isinstance(model, Sequential):
        rows = _sequential_rows(model)
    else:
        rows = (_row(layer, _node_shapes_text(layer) if isinstance(model, Functional) or
                     getattr(layer, "_build_shape", None) is not None else "?")
                for layer in model.layers)
    own = {id(n) for n in getattr(model, "_graph_nodes", [])} if not level else set()
    for layer, row in zip(model.layers, rows):
        yield (prefix + row[0],) + row[1:] + ((_connections(layer, own),) if connected else ())
        if expand_nested and isinstance(layer, Model) and layer.layers:
            yield from _rows(layer, connected, True, level + 1)


def _rule(left, fill, mid, right, widths):
    return left + mid.join(fill * w for w in widths) + right


def _wrap(text: str, width: int) -> list[str]:
    """rich's wrapping: at spaces; a word wider than the cell is cut with an ellipsis."""
    lines = textwrap.wrap(text, width, break_long_words=False) or [""]
    return [line if len(line) <= width else line[:width - 1] + "…" for line in lines]


def _cells(texts, widths, edge, aligns=("<", "<", ">")) -> str:
    """One table row; a text wider than its cell wraps at spaces onto more lines, as rich (and
    so Keras) wraps it."""
    wrapped = [_wrap(t, w - 2) for t, w in zip(texts, widths)]
    height = max(len(lines) for lines in wrapped)
    return "\n".join(
        edge + edge.join(f" {(lines[k] if k < len(lines) else ''):{a}{w - 2}} "
                         for lines, w, a in zip(wrapped, widths, aligns)) + edge
        for k in range(height))


def _tally(params) -> tuple[int, int]:
    params = list(params)
    return sum(p.numel() for p in params), sum(p.numel() * p.element_size() for p in params)


def _count_line(label, tally) -> str:
    n, size = tally
    return f" {label}: {n:,} ({readable_memory_size(size)})"


def _optimizer_tally(model):
    """Keras counts an optimizer once it is built: its slot variables plus two scalars (the int32
    iteration counter and the float32 learning rate). rnnkit's optimizers create their slots at
    the first step."""
    opt = getattr(model, "optimizer", None)
    if opt is None or not getattr(opt, "built", True) or not getattr(opt, "state", None):
        return None
    slots = [t for state in opt.state.values() for t in state.values() if hasattr(t, "numel")]
    n, size = _tally(slots)
    return n + 2, size + 8


def summary_text(model, line_length=None, positions=None, expand_nested=False) -> str:
    from .functional import Functional

    connected = isinstance(model, Functional) and not _sequential_like(model)
    default_length, default_positions, headers, aligns = (
        (108, _GRAPH_POSITIONS, _HEADERS + ("Connected to",), ("<", "<", ">", "<")) if connected
        else (88, _POSITIONS, _HEADERS, ("<", "<", ">")))
    if line_length is None:
        line_length = min(default_length, shutil.get_terminal_size().columns - 4)
    widths = column_widths(line_length, positions or default_positions)
    lines = [f'Model: "{model.name}"', _rule("┏", "━", "┳", "┓", widths),
             _cells(headers, widths, "┃", aligns), _rule("┡", "━", "╇", "┩", widths)]
    rows = list(_rows(model, connected, expand_nested))
    for i, row in enumerate(rows):
        if i:
            lines.append(_rule("├", "─", "┼", "┤", widths))
        lines.append(_cells(row, widths, "│", aligns))
    lines.append(_rule("└", "─", "┴", "┘", widths))
    weights = model.weights
    trainable = _tally(p for p in weights if p.requires_grad)
    frozen = _tally(p for p in weights if not p.requires_grad)
    optimizer = _optimizer_tally(model)
    total = tuple(a + b + (optimizer[i] if optimizer else 0)
                  for i, (a, b) in enumerate(zip(trainable, frozen)))
    lines += [_count_line("Total params", total), _count_line("Trainable params", trainable),
              _count_line("Non-trainable params", frozen)]
    if optimizer is not None:
        lines.append(_count_line("Optimizer params", optimizer))
    return "\n".join(lines) + "\n"


def print_summary(model, line_length=None, positions=None, print_fn=None,
                  expand_nested=False) -> None:
    text = summary_text(model, line_length, positions, expand_nested)
    if print_fn is None:
        print(text, end="")
    else:
        print_fn(text)
