/* SPDX-License-Identifier: MIT */
/* The fork handlers (fork.c), top layer: pthread_atfork's three. */
#ifndef HAKMEM_MM_FORK_H
#define HAKMEM_MM_FORK_H

void hak_fork_prepare(void);
void hak_fork_parent(void);
void hak_fork_child(void);

#endif
