# bench/lib/flags.mk: read after the project Makefile by bench/run, to print
# the compiler and flags the extension's kernel object is built with, so
# that C micro-benchmarks (bench/*.c) compile exactly as the extension does
# (-Wno-unused-function only because a benchmark uses some of the kernels).
#
#   make -s -f Makefile -f bench/lib/flags.mk bench-compile-command

.PHONY: bench-compile-command
bench-compile-command:
	@echo '$(CC) $(CPPFLAGS) $(CFLAGS) $(KERNEL_FLAGS) -Wno-unused-function'

.PHONY: bench-link-libs
bench-link-libs:
	@echo '$(BLAS_LIBS) -lm'
