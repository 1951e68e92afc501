"""Input: what a school hands over, and how it is read.

- :mod:`~mentorlib.io.study`: ``study.toml`` (sources, limits, the study's ``[rules]``);
- :mod:`~mentorlib.io.codebook` (+ the built-in ``codebooks/*.toml``): what each column means;
- :mod:`~mentorlib.io.readers`: xlsx/csv readers, header detection, 问卷星/腾讯问卷 exports;
- :mod:`~mentorlib.io.xlsx`: the streaming xlsx writer and cell classification;
- :mod:`~mentorlib.io.open`: :func:`~mentorlib.io.open.open_study` (processed or raw folder).

Nothing is imported here, so reading a codebook does not load the readers or the cleaner.
"""
