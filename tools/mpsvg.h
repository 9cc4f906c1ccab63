/*
 * mpsvg - the inline SVG charts and HTML text helpers of mp-report.  The
 * charts are drawn from numbers alone (no scripts, no fonts, no network):
 * columns for histograms, horizontal bars for per-task CPU, polylines for
 * rates over time.
 */
#ifndef TOOLS_MPSVG_H
#define TOOLS_MPSVG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* html_text - s (n bytes) as HTML text: &<>"' escaped, bad UTF-8 as U+FFFD. */
void html_text(FILE *f, const char *s, size_t n);
void html_str(FILE *f, const char *s);

/* fmt_ns - a duration for a chart label: "750ns", "1.5us", "12ms", "3.2s". */
void fmt_ns(char *buf, size_t size, uint64_t ns);

/* svg_columns - a column per value, labelled below; title on hover. */
void svg_columns(FILE *f, const char *const *labels, const uint64_t *v, size_t n, const char *what);

/* svg_hbars - a horizontal bar per value, labels on the left, text on the right. */
void svg_hbars(FILE *f, const char *const *labels, const uint64_t *v, const char *const *text,
               size_t n);

struct svg_series {
	const char *name;
	const double *y; /* npoints values */
};

/* svg_lines - series over npoints equally spaced times from t0 to t1 (ns). */
void svg_lines(FILE *f, const struct svg_series *s, size_t nseries, size_t npoints, uint64_t t0,
               uint64_t t1, const char *yunit);

#endif /* TOOLS_MPSVG_H */
