//! How the process's allocator gives memory back.
//!
//! glibc raises its mmap threshold to the size of each large block freed, up to 32 MiB. After
//! the first sign-in frees its Argon2 buffer (19 MiB), every later one is carved from an arena
//! instead of mapped, and each of the many arenas (eight per core) keeps its high-water mark: the
//! hardening probe saw RSS stay at 250 MB, and the startup benchmark's load at 550 MB, long after
//! the load ended. A fixed threshold keeps large blocks mapped, so freeing them returns them to
//! the system at once, and fewer arenas bound what small allocations can strand.

/// Sets the allocator's limits; call before any thread starts.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // Values from mallopt(3): M_ARENA_MAX = -8, M_MMAP_THRESHOLD = -3.
        const M_MMAP_THRESHOLD: libc::c_int = -3;
        const M_ARENA_MAX: libc::c_int = -8;
        // SAFETY: mallopt only sets allocator parameters; it is called before other threads exist.
        unsafe {
            libc::mallopt(M_MMAP_THRESHOLD, 256 * 1024);
            libc::mallopt(M_ARENA_MAX, 4);
        }
    }
}
