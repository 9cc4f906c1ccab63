/*
 * Spinlocks.  spin_lock_irqsave masks interrupts on this CPU first, so an
 * interrupt handler that takes the same lock cannot deadlock against the
 * code it interrupted.  Plain spin_lock is for callers that have already
 * masked interrupts.
 */
#ifndef KERN_SPINLOCK_H
#define KERN_SPINLOCK_H

#include <stdint.h>

#include "x86_64/cpu.h"

typedef struct {
	volatile uint32_t locked;
} spinlock_t;

#define SPINLOCK_INIT                                                                              \
	{                                                                                          \
		0                                                                                  \
	}

static inline __attribute__((always_inline)) void spin_lock(spinlock_t *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
}

static inline int spin_trylock(spinlock_t *l)
{
	return !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE);
}

static inline __attribute__((always_inline)) void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

static inline __attribute__((always_inline)) unsigned long spin_lock_irqsave(spinlock_t *l)
{
	unsigned long flags = intr_save();

	spin_lock(l);
	return flags;
}

static inline __attribute__((always_inline)) void spin_unlock_irqrestore(spinlock_t *l,
                                                                         unsigned long flags)
{
	spin_unlock(l);
	intr_restore(flags);
}

#endif
