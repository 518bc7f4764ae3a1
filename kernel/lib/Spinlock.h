#pragma once

// A test-and-test-and-set spinlock. SpinlockGuard also disables interrupts
// on this CPU while held, so an interrupt handler that takes the same lock
// cannot deadlock against the code it interrupted.

#include "kernel/arch/x86_64/Cpu.h"

#include <atomic>

namespace aisos {

class Spinlock {
public:
    void lock()
    {
        for (;;) {
            if (!m_locked.exchange(true, std::memory_order_acquire))
                return;
            while (m_locked.load(std::memory_order_relaxed))
                cpu::pause();
        }
    }
    bool try_lock() { return !m_locked.exchange(true, std::memory_order_acquire); }
    void unlock() { m_locked.store(false, std::memory_order_release); }
    bool is_locked() const { return m_locked.load(std::memory_order_relaxed); }

private:
    std::atomic<bool> m_locked { false };
};

class SpinlockGuard {
public:
    explicit SpinlockGuard(Spinlock& lock)
        : m_lock(lock)
        , m_interrupts_were_enabled(cpu::interrupts_enabled())
    {
        cpu::disable_interrupts();
        m_lock.lock();
    }
    ~SpinlockGuard()
    {
        m_lock.unlock();
        if (m_interrupts_were_enabled)
            cpu::enable_interrupts();
    }
    SpinlockGuard(const SpinlockGuard&) = delete;
    SpinlockGuard& operator=(const SpinlockGuard&) = delete;

private:
    Spinlock& m_lock;
    bool m_interrupts_were_enabled;
};

} // namespace aisos
