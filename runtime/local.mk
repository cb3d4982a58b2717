bin_PROGRAMS += runtime/novm-runc
runtime_novm_runc_SOURCES = runtime/main.c runtime/runtime.h \
	runtime/cmd-run.c runtime/cmd-spec.c \
	runtime/state.h runtime/state.c \
	runtime/container.h runtime/container.c
runtime_novm_runc_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS)
runtime_novm_runc_LDADD = $(OCI_LIBS) $(VMM_LIBS)
