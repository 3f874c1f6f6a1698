/* glibc's __fprintf_chk for the musl release builds (make dist), and nothing else.
 *
 * Debian's LLVM libunwind.a (libunwind-16-dev, the unwinder the musl std links) is compiled
 * against glibc with _FORTIFY_SOURCE, so its debug logging calls __fprintf_chk. musl has no
 * _chk functions; without this the static link fails on that one undefined symbol. The flag
 * argument only asks for glibc's extra %n checks, so plain vfprintf is the same function. */
#include <stdarg.h>
#include <stdio.h>

int __fprintf_chk(FILE *stream, int flag, const char *format, ...)
{
	va_list ap;
	int n;

	(void)flag;
	va_start(ap, format);
	n = vfprintf(stream, format, ap);
	va_end(ap);
	return n;
}
