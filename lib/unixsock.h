/* bind()/connect() of a unix socket at a path of any length.  sun_path
 * holds 107 bytes; a longer path is reached through an O_PATH fd of its
 * directory as /proc/self/fd/N/<name>, the fd kept only for the call. */
#ifndef NOVM_UNIXSOCK_H
#define NOVM_UNIXSOCK_H

/* 0, or -1 with errno (ENAMETOOLONG when even the last component does not
 * fit).  unix_connect retries on EINTR. */
int unix_bind(int sock, const char *path);
int unix_connect(int sock, const char *path);

#endif
