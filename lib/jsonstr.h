#ifndef NOVM_JSONSTR_H
#define NOVM_JSONSTR_H

#include <stdbool.h>
#include <stdio.h>

/* Writes `s` as a JSON string literal (quotes and escapes included). */
void json_write_string(FILE *out, const char *s);

/* A JSON boolean literal, for a %s. */
static inline const char *json_bool(bool b)
{
	return b ? "true" : "false";
}

#endif
