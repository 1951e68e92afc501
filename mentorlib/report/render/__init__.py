"""Renderers of a :class:`~mentorlib.report.document.Report`: Markdown, HTML, Word; fonts and
the number formatters of the report text (:mod:`~mentorlib.report.render.fmt`)."""
