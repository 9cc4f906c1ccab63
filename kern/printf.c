/*
 * Kernel formatted output.  One formatter (fmt_core) feeds either a
 * bounded buffer or the console, so kprintf needs no buffer of its own and
 * works at any stack depth, including from exception handlers.
 */
#include <stdint.h>

#include "kern/console.h"
#include "kern/printf.h"

struct fmt_out {
	void (*put)(struct fmt_out *o, char c);
	char *buf;
	size_t size;
	size_t len;
};

static void fmt_put_buf(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void fmt_put_console(struct fmt_out *o, char c)
{
	console_putc_locked(c);
	o->len++;
}

static void fmt_pad(struct fmt_out *o, char c, int n)
{
	while (n-- > 0)
		o->put(o, c);
}

static void fmt_number(struct fmt_out *o, uint64_t v, int neg, unsigned base, int upper, int width,
                       int prec, int left, int zero, char sign)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	while (n < prec)
		tmp[n++] = '0';

	char s = neg ? '-' : sign;
	int total = n + (s ? 1 : 0);

	if (!left && !zero)
		fmt_pad(o, ' ', width - total);
	if (s)
		o->put(o, s);
	if (!left && zero)
		fmt_pad(o, '0', width - total);
	while (n)
		o->put(o, tmp[--n]);
	if (left)
		fmt_pad(o, ' ', width - total);
}

static void fmt_core(struct fmt_out *o, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			o->put(o, *fmt);
			continue;
		}
		int left = 0, zero = 0, alt = 0, width = 0, prec = -1, lng = 0;
		char sign = 0;

		for (;;) {
			fmt++;
			if (*fmt == '-')
				left = 1;
			else if (*fmt == '0')
				zero = 1;
			else if (*fmt == '+')
				sign = '+';
			else if (*fmt == '#')
				alt = 1;
			else if (*fmt == ' ')
				sign = sign ? sign : ' ';
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = 1;
				width = -width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				width = width * 10 + (*fmt++ - '0');
		}
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					prec = prec * 10 + (*fmt++ - '0');
			}
		}
		for (;; fmt++) {
			if (*fmt == 'l' || *fmt == 'z' || *fmt == 't' || *fmt == 'j')
				lng = lng < 2 && *fmt == 'l' ? lng + 1 : 2;
			else if (*fmt != 'h')
				break;
		}
		if (!*fmt)
			break;

		uint64_t u;
		int64_t s;

		switch (*fmt) {
		case 'd':
		case 'i':
			s = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			u = s < 0 ? -(uint64_t)s : (uint64_t)s;
			fmt_number(o, u, s < 0, 10, 0, width, prec, left, zero, sign);
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			u = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			if (alt && u && (*fmt == 'x' || *fmt == 'X')) {
				o->put(o, '0');
				o->put(o, *fmt);
				width -= 2;
			} else if (alt && u && *fmt == 'o') {
				o->put(o, '0');
				width--;
			}
			fmt_number(o, u, 0,
			           *fmt == 'u'   ? 10
			           : *fmt == 'o' ? 8
			                         : 16,
			           *fmt == 'X', width, prec, left, zero, 0);
			break;
		case 'p':
			o->put(o, '0');
			o->put(o, 'x');
			fmt_number(o, (uintptr_t)va_arg(ap, void *), 0, 16, 0,
			           width > 2 ? width - 2 : 0, -1, left, 1, 0);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);

			if (!left)
				fmt_pad(o, ' ', width - 1);
			o->put(o, c);
			if (left)
				fmt_pad(o, ' ', width - 1);
			break;
		}
		case 's': {
			const char *str = va_arg(ap, const char *);
			int n = 0;

			if (!str)
				str = "(null)";
			while (str[n] && (prec < 0 || n < prec))
				n++;
			if (!left)
				fmt_pad(o, ' ', width - n);
			for (int i = 0; i < n; i++)
				o->put(o, str[i]);
			if (left)
				fmt_pad(o, ' ', width - n);
			break;
		}
		case '%':
			o->put(o, '%');
			break;
		default:
			o->put(o, '%');
			o->put(o, *fmt);
			break;
		}
	}
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { fmt_put_buf, buf, size, 0 };

	fmt_core(&o, fmt, ap);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int kvprintf(const char *fmt, va_list ap)
{
	struct fmt_out o = { fmt_put_console, NULL, 0, 0 };
	unsigned long flags = console_lock();

	fmt_core(&o, fmt, ap);
	console_unlock(flags);
	return (int)o.len;
}

int kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = kvprintf(fmt, ap);
	va_end(ap);
	return n;
}
