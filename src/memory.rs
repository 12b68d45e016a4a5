//! Handing freed memory back to the system. The built-in stages run inside this process one
//! after another (or side by side), and glibc's allocator keeps what a stage frees — in the
//! main heap and in one arena per rayon thread — for later reuse instead of returning it. At a
//! million rows `train` frees hundreds of MB of matrices and trees; kept, they became part of
//! `evaluate`'s peak, so the run's peak RSS was well above any one stage's.
//!
//! Two calls, both glibc's own and both harmless when they find nothing to do: [`init`] fixes
//! the size above which a block gets its own mapping (returned to the system the moment it is
//! freed) instead of letting it grow up to 32 MB, and [`release`] gives back the free pages of
//! every arena after a built-in stage. Other C libraries: nothing is done.

/// Blocks of at least this many bytes are mapped on their own: the row-sized vectors of a
/// large dataset (800,000 rows × 4 B = 3.2 MB) are unmapped when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: i32 = 1 << 20;

/// Call once, first thing in `main`.
pub fn init() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets an allocator parameter; it is called before any other
    // thread exists and takes plain integers.
    #[allow(unsafe_code)]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

/// Returns the free pages of every allocator arena to the system.
pub fn release() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` is thread-safe (it locks each arena in turn) and only releases
    // memory that no allocation holds.
    #[allow(unsafe_code)]
    unsafe {
        libc::malloc_trim(0);
    }
}
