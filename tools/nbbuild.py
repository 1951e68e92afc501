"""Build a notebook from a compact cell list (outputs stripped). Used to author notebooks/."""

from __future__ import annotations

import sys

import nbformat


def build(path: str, cells: list[tuple[str, str]]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    for i, (kind, src) in enumerate(cells):
        src = src.strip("\n")
        if kind == "md":
            c = nbformat.v4.new_markdown_cell(src)
        else:
            c = nbformat.v4.new_code_cell(src)
            if kind == "parameters":
                c.metadata["tags"] = ["parameters"]
        c.id = f"cell-{i:02d}"
        nb.cells.append(c)
    nbformat.validate(nb)
    nbformat.write(nb, path)


if __name__ == "__main__":
    sys.exit("import build() from this module")
