/*
 * mpsvg.c - inline SVG charts for mp-report (see mpsvg.h).  Geometry is in
 * floating point (it only places pixels); every number a reader is meant to
 * trust is printed exactly in the report's tables or in the hover titles.
 */
#include "tools/mpsvg.h"

#include <inttypes.h>
#include <string.h>

#include "tools/mpout.h"

#define W 720.0
#define H 240.0
#define ML 64.0 /* margins: left, right, top, bottom */
#define MR 12.0
#define MT 12.0
#define MB 44.0

static const char *const palette[] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
	"#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#ad494a",
};

#define NPALETTE (sizeof(palette) / sizeof(palette[0]))

void html_text(FILE *f, const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;

	for (size_t i = 0; i < n;) {
		size_t len;

		switch (p[i]) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			if (p[i] < 0x20 || p[i] == 0x7f) {
				fputs("&#xfffd;", f);
			} else if ((len = mp_utf8_len(p + i, n - i)) == 0) {
				fputs("&#xfffd;", f);
			} else {
				fwrite(p + i, 1, len, f);
				i += len;
				continue;
			}
		}
		i++;
	}
}

void html_str(FILE *f, const char *s)
{
	html_text(f, s, strlen(s));
}

void fmt_ns(char *buf, size_t size, uint64_t ns)
{
	static const struct {
		uint64_t div;
		const char *unit;
	} u[] = { { 1000000000ULL, "s" }, { 1000000ULL, "ms" }, { 1000ULL, "us" } };

	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		if (ns >= u[i].div) {
			uint64_t whole = ns / u[i].div, tenth = ns % u[i].div * 10 / u[i].div;

			if (whole >= 100 || tenth == 0)
				snprintf(buf, size, "%" PRIu64 "%s", whole, u[i].unit);
			else
				snprintf(buf, size, "%" PRIu64 ".%" PRIu64 "%s", whole, tenth,
				         u[i].unit);
			return;
		}
	}
	snprintf(buf, size, "%" PRIu64 "ns", ns);
}

/* fmt_si - a compact axis label: 950, 9.5k, 12M. */
static void fmt_si(char *buf, size_t size, double v)
{
	static const char *const sfx[] = { "", "k", "M", "G", "T" };
	size_t i = 0;

	while (v >= 1000 && i + 1 < sizeof(sfx) / sizeof(sfx[0])) {
		v /= 1000;
		i++;
	}
	snprintf(buf, size, v < 10 && i ? "%.1f%s" : "%.0f%s", v, sfx[i]);
}

static void svg_open(FILE *f, double h)
{
	fprintf(f,
	        "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\">\n",
	        W, h, W, h);
}

static void svg_yaxis(FILE *f, double top, double bottom, const char *maxlabel)
{
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\" />\n", ML,
	        top, ML, bottom);
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\" />\n", ML,
	        bottom, W - MR, bottom);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"yl\">", ML - 4, top + 4);
	html_str(f, maxlabel);
	fprintf(f, "</text>\n<text x=\"%.1f\" y=\"%.1f\" class=\"yl\">0</text>\n", ML - 4, bottom);
}

void svg_columns(FILE *f, const char *const *labels, const uint64_t *v, size_t n, const char *what)
{
	double pw = W - ML - MR, ph = H - MT - MB, bw;
	uint64_t max = 0;
	size_t every;
	char maxs[32];

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		max = v[i] > max ? v[i] : max;
	bw = pw / (double)n > 48 ? 48 : pw / (double)n;
	every = (n + 15) / 16;
	fmt_si(maxs, sizeof(maxs), (double)max);
	svg_open(f, H);
	svg_yaxis(f, MT, MT + ph, maxs);
	for (size_t i = 0; i < n; i++) {
		double h = max ? ph * (double)v[i] / (double)max : 0;
		double x = ML + bw * (double)i;

		if (v[i] && h < 1)
			h = 1;
		fprintf(f,
		        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
		        "<title>",
		        x + 1, MT + ph - h, bw > 2 ? bw - 2 : bw, h, palette[0]);
		html_str(f, labels[i]);
		fprintf(f, ": %" PRIu64 " ", v[i]);
		html_str(f, what);
		fputs("</title></rect>\n", f);
		if (i % every == 0) {
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"xl\">", x + bw / 2,
			        MT + ph + 14);
			html_str(f, labels[i]);
			fputs("</text>\n", f);
		}
	}
	fputs("</svg>\n", f);
}

void svg_hbars(FILE *f, const char *const *labels, const uint64_t *v, const char *const *text,
               size_t n)
{
	double row = 20, x0 = 260, pw = W - x0 - 100, h = row * (double)n + 8;
	uint64_t max = 0;

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		max = v[i] > max ? v[i] : max;
	svg_open(f, h);
	for (size_t i = 0; i < n; i++) {
		double y = 4 + row * (double)i, w = max ? pw * (double)v[i] / (double)max : 0;

		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"yl\">", x0 - 6, y + 14);
		html_str(f, labels[i]);
		fprintf(f,
		        "</text>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		        "fill=\"%s\" />\n",
		        x0, y + 2, w, row - 4, palette[i % NPALETTE]);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"vl\">", x0 + w + 6, y + 14);
		html_str(f, text[i]);
		fputs("</text>\n", f);
	}
	fputs("</svg>\n", f);
}

void svg_lines(FILE *f, const struct svg_series *s, size_t nseries, size_t npoints, uint64_t t0,
               uint64_t t1, const char *yunit)
{
	double pw = W - ML - MR - 150, ph = H - MT - MB, max = 0;
	char buf[48];

	if (nseries == 0 || npoints == 0)
		return;
	for (size_t k = 0; k < nseries; k++)
		for (size_t i = 0; i < npoints; i++)
			max = s[k].y[i] > max ? s[k].y[i] : max;
	fmt_si(buf, sizeof(buf), max);
	strncat(buf, yunit, sizeof(buf) - strlen(buf) - 1);
	svg_open(f, H);
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\" />\n", ML,
	        MT, ML, MT + ph);
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\" />\n", ML,
	        MT + ph, ML + pw, MT + ph);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"yl\">", ML - 4, MT + 4);
	html_str(f, buf);
	fprintf(f, "</text>\n<text x=\"%.1f\" y=\"%.1f\" class=\"yl\">0</text>\n", ML - 4, MT + ph);
	for (int i = 0; i <= 4; i++) {
		fmt_ns(buf, sizeof(buf), (t1 - t0) / 4 * (uint64_t)i);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"xl\">+%s</text>\n", ML + pw * i / 4,
		        MT + ph + 14, buf);
	}
	for (size_t k = 0; k < nseries; k++) {
		const char *c = palette[k % NPALETTE];

		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
		        c);
		for (size_t i = 0; i < npoints; i++) {
			double x = ML + (npoints > 1 ? pw * (double)i / (double)(npoints - 1) : 0);
			double y = MT + ph - (max > 0 ? ph * s[k].y[i] / max : 0);

			fprintf(f, "%s%.1f,%.1f", i ? " " : "", x, y);
		}
		fputs("\"><title>", f);
		html_str(f, s[k].name);
		fputs("</title></polyline>\n", f);
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\" />",
		        ML + pw + 16, MT + 14.0 * (double)k, c);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"lg\">", ML + pw + 30,
		        MT + 9 + 14.0 * (double)k);
		html_str(f, s[k].name);
		fputs("</text>\n", f);
	}
	fputs("</svg>\n", f);
}
