# Makefile for "make -j2" in scripts/realprog.sh (make -f mkprog.mk
# SRC=tests/realprog/cprog): builds the cprog sources through a static
# library into "prog", and a second program "prog2" from sources and a
# header that make generates itself.  -MMD dependency files are included
# on the next run, so "make -q" can tell whether everything is up to date.
SRC ?= .
vpath %.c $(SRC)
vpath %.h $(SRC)

CC = gcc
CFLAGS = -O2 -Wall -I$(SRC) -I. -MMD -MP
FNS = f0 f1 f2 f3 f4 f5 f6 f7 f8 f9
FSRC = $(FNS:=.c) fmain.c
FOBJ = $(FNS:=.o) fmain.o

all: prog prog2
.PHONY: all clean

libcp.a: list.o words.o
	rm -f $@
	ar rcs $@ $^

prog: main.o libcp.a
	$(CC) -o $@ main.o -L. -lcp

prog2: $(FOBJ)
	$(CC) -o $@ $(FOBJ)

fns.h:
	@for f in $(FNS); do echo "unsigned long $$f(unsigned long x);"; done >$@.tmp
	@mv $@.tmp $@

f%.c:
	@printf '#include "fns.h"\nunsigned long f%s(unsigned long x)\n{\n\tunsigned long h = %su;\n\tfor (unsigned long i = 0; i < 100000; i++)\n\t\th = h * 31 + (x ^ (i * %su));\n\treturn h;\n}\n' $* $* $* >$@

fmain.c:
	@{ echo '#include <stdio.h>'; echo '#include "fns.h"'; \
	   echo 'int main(void)'; echo '{'; \
	   for f in $(FNS); do printf '\tprintf("%s %%lx\\n", %s(12345));\n' $$f $$f; done; \
	   echo '	return 0;'; echo '}'; } >$@

$(FOBJ): fns.h
.SECONDARY: $(FSRC)

%.o: %.c
	$(CC) $(CFLAGS) -c -o $@ $<

clean:
	rm -f prog prog2 libcp.a *.o *.d fns.h $(FSRC)

-include $(wildcard *.d)
