#include "console.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

void console_setup(void)
{
	bool missing[3];
	bool any = false;
	int fd;

	for (int i = 0; i < 3; i++) {
		missing[i] = fcntl(i, F_GETFD) < 0;
		any |= missing[i];
	}
	if (!any)
		return;
	/* Without a console there is nobody to tell: stay silent and let the
	 * next call (after devtmpfs is mounted) try again. */
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		if (missing[i] && fd != i)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
	/* stdout may have been created unbuffered or fully buffered while fd 1
	 * was closed; every line must reach the console before a reset. */
	setvbuf(stdout, NULL, _IOLBF, 0);
}
