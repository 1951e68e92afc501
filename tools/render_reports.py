"""Render drafted reports to PNG pages so a person can look at them.

HTML: headless Chromium prints the page twice, once in its screen layout (1280 px wide,
on tall pages) and once as the browser would print it; ``pdftoppm`` turns every PDF page
into a PNG. DOCX: LibreOffice ``--headless --convert-to pdf`` then ``pdftoppm`` (the PDF is
kept beside the pages). Everything goes into ``--out``.

    # render reports that exist
    python tools/render_reports.py reports/demo --out /tmp/pages
    # draft the reports of a processed study first (annual summaries of --years, the review)
    python tools/render_reports.py --study data/processed/demo --years 2025 --out /tmp/pages

A tool, not a test: it needs ``chromium``, ``libreoffice`` (writer) and ``pdftoppm``
(poppler-utils) on the PATH, ``fonts-noto-cjk`` so LibreOffice can show the Chinese of the
DOCX (the HTML carries its own font) and, for Word-like line breaks, ``fonts-liberation``
(metric twins of Times New Roman and Arial). Chromium runs with a fresh profile and every
network feature off (the reports must not need the network).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _use_project_python() -> None:
    """Work from any shell: without mentorlib importable, re-run under the project's venv
    (``.venv/bin/python``), with the repository on the path."""
    try:
        import mentorlib  # noqa: F401
    except ImportError:
        venv = ROOT / ".venv" / "bin" / "python"
        if venv.is_file() and Path(sys.executable).resolve() != venv.resolve():
            env = dict(
                os.environ,
                PYTHONPATH=os.pathsep.join(
                    filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])
                ),
            )
            os.execve(str(venv), [str(venv), __file__, *sys.argv[1:]], env)
        sys.path.insert(0, str(ROOT))


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
]


def _which(*names: str) -> str:
    for n in names:
        p = shutil.which(n)
        if p:
            return p
    raise SystemExit(f"render_reports: none of {names} on the PATH (see the module docstring)")


def _run(cmd: list[str], timeout: int = 240) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({r.returncode}): {r.stderr.strip()[-800:]}")


def _pdf_pages(pdf: Path, out: Path, stem: str, dpi: int) -> list[Path]:
    pdftoppm = _which("pdftoppm")
    for old in out.glob(f"{stem}-*.png"):  # pages of an earlier, longer rendering
        old.unlink()
    _run([pdftoppm, "-png", "-r", str(dpi), str(pdf), str(out / stem)])
    return sorted(out.glob(f"{stem}-*.png"))


#: Injected into a copy of the page so Chromium prints the *screen* layout onto tall pages
#: (a screenshot is limited to the window; this covers the whole page).
SCREEN_PAGES_CSS = (
    "<style>@page{size:1280px 1700px;margin:0}"
    "@media print{html{background:#f6f7f9 !important}"
    "body{max-width:60rem !important;padding:2.5rem 3rem 4rem !important;font-size:15px !important;"
    "margin:0 auto !important}nav.toc{display:block !important}"
    "figure,table,h2{break-inside:auto !important;break-after:auto !important}}</style>"
)


def render_html(path: Path, out: Path, *, dpi: int = 70) -> list[Path]:
    """The screen layout (1280 px wide, cut into tall pages) and the printed pages of an HTML."""
    chromium = _which("chromium", "chromium-browser", "google-chrome")
    stem = path.stem
    paths = []
    with tempfile.TemporaryDirectory() as tmp:
        screen = Path(tmp) / "screen.html"
        text = path.read_text(encoding="utf-8")
        screen.write_text(
            text.replace("</head>", SCREEN_PAGES_CSS + "</head>", 1), encoding="utf-8"
        )
        for src, tag, res in ((screen, "screen", 96), (path, "print", dpi)):
            pdf = Path(tmp) / f"{tag}.pdf"
            _run(
                [
                    chromium,
                    *CHROMIUM_FLAGS,
                    f"--user-data-dir={tmp}/profile-{tag}",
                    "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}",
                    src.resolve().as_uri(),
                ]
            )
            paths += _pdf_pages(pdf, out, f"{stem}.html-{tag}", res)
    return paths


def render_docx(path: Path, out: Path, *, dpi: int = 70) -> list[Path]:
    """PDF pages of one DOCX as LibreOffice lays it out."""
    office = _which("libreoffice", "soffice")
    with tempfile.TemporaryDirectory() as tmp:
        _run(
            [
                office,
                f"-env:UserInstallation=file://{tmp}/lo-profile",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                tmp,
                str(path.resolve()),
            ],
            timeout=400,
        )
        pdf = Path(tmp) / f"{path.stem}.pdf"
        if not pdf.is_file():
            raise RuntimeError(f"LibreOffice wrote no PDF for {path.name}")
        keep = out / f"{path.stem}.docx.pdf"
        shutil.copyfile(pdf, keep)
        return _pdf_pages(pdf, out, f"{path.stem}.docx", dpi)


def draft(
    study: Path, years: list[int] | None, out: Path, langs: list[str], internal: bool
) -> list[Path]:
    """Draft the annual summaries and the review of a processed study into ``out``."""
    from mentorlib.data import load_processed
    from mentorlib.report import analyse_pilot, analyse_year, annual_summary, pilot_review
    from mentorlib.rules import DEFAULT_SEED

    P = load_processed(study)
    years = years or [P.years[-1]]
    written = []
    versions = [True, False] if internal else [True]
    for y in years:
        a = analyse_year(P, y, seed=DEFAULT_SEED)
        for lang in langs:
            for pub in versions:
                written += annual_summary(P, y, lang=lang, public=pub, analyses=a).write(
                    out, formats=("docx", "html")
                )
    a = analyse_pilot(P, seed=DEFAULT_SEED)
    for lang in langs:
        for pub in versions:
            written += pilot_review(P, lang=lang, public=pub, analyses=a).write(
                out, formats=("docx", "html")
            )
    return written


def main(argv: list[str] | None = None) -> int:
    _use_project_python()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", type=Path, help="report files or folders holding them")
    ap.add_argument("--out", type=Path, required=True, help="folder for the PNG pages")
    ap.add_argument("--study", type=Path, help="a processed study: draft its reports first")
    ap.add_argument(
        "--years", type=int, nargs="*", help="annual summaries to draft (default: last year)"
    )
    ap.add_argument("--lang", nargs="*", default=["zh"], choices=["zh", "en"])
    ap.add_argument("--internal", action="store_true", help="also draft the internal versions")
    ap.add_argument("--dpi", type=int, default=70, help="resolution of the page images")
    ap.add_argument("--only", choices=["html", "docx"], help="render one format only")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    args.out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    if args.study:
        t0 = time.perf_counter()
        files += draft(args.study, args.years, args.out / "reports", args.lang, args.internal)
        print(f"drafted {len(files)} files in {time.perf_counter() - t0:.0f} s")
    for p in args.paths:
        files += sorted(p.glob("*.html")) + sorted(p.glob("*.docx")) if p.is_dir() else [p]
    files = [f for f in files if f.suffix in (".html", ".docx")]
    if args.only:
        files = [f for f in files if f.suffix == f".{args.only}"]
    if not files:
        print("render_reports: no .html or .docx to render", file=sys.stderr)
        return 2
    for f in files:
        t0 = time.perf_counter()
        pages = (
            render_html(f, args.out, dpi=args.dpi)
            if f.suffix == ".html"
            else render_docx(f, args.out, dpi=args.dpi)
        )
        print(f"{f.name}: {len(pages)} images ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
