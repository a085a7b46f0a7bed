//! Classic BPF for seccomp: the instructions the filter uses, a small
//! assembler with forward labels, the decision tree over syscall numbers, and
//! an interpreter that runs a program on a `struct seccomp_data` the way the
//! kernel does (used by the unit tests to check the filter of every
//! architecture on any host).

use super::super::sys::SockFilter;

// Opcodes (`linux/bpf_common.h`): class | size | mode, class | op | source.
/// `BPF_LD | BPF_W | BPF_ABS`: load a 32-bit word of `seccomp_data`.
pub(crate) const LD_W_ABS: u16 = 0x20;
/// `BPF_ALU | BPF_AND | BPF_K`.
pub(crate) const ALU_AND_K: u16 = 0x54;
/// `BPF_JMP | BPF_JA`: unconditional, 32-bit offset in `k`.
pub(crate) const JMP_JA: u16 = 0x05;
/// `BPF_JMP | BPF_JEQ | BPF_K`.
pub(crate) const JMP_JEQ_K: u16 = 0x15;
/// `BPF_JMP | BPF_JGE | BPF_K`.
pub(crate) const JMP_JGE_K: u16 = 0x35;
/// `BPF_JMP | BPF_JSET | BPF_K`.
pub(crate) const JMP_JSET_K: u16 = 0x45;
/// `BPF_RET | BPF_K`.
pub(crate) const RET_K: u16 = 0x06;

/// `sizeof(struct seccomp_data)`: nr, arch, instruction_pointer, args[6].
#[cfg(any(test, feature = "probe"))]
pub(crate) const DATA_LEN: usize = 64;
/// The kernel's limit on one program (`BPF_MAXINSNS`).
pub(crate) const MAX_INSNS: usize = 4096;

/// A jump target: the next instruction, the one after, or a label.
#[derive(Clone, Copy, Debug)]
pub(crate) enum To {
    Next,
    Skip1,
    Label(usize),
}

/// A tiny assembler with forward labels and shared returns: a conditional
/// jump can return directly by jumping to a `ret` of a pool placed later, at
/// a point no instruction falls through to (the end of a subtree or block),
/// so `if A == k return ALLOW` costs one instruction, not two.
pub(crate) struct Asm {
    code: Vec<(u16, To, To, u32)>,
    labels: Vec<Option<usize>>,
    /// The returns of the pool not placed yet, with their labels.
    pool: Vec<(u32, usize)>,
    /// Where the first jump to the pending pool is.
    pool_since: Option<usize>,
}

/// A pool is placed once its first jump is this far behind (conditional
/// jumps reach 255 ahead; the places where a pool can go are never more than
/// a few instructions apart).
const POOL_DISTANCE: usize = 200;

impl Asm {
    pub(crate) fn new() -> Self {
        Asm {
            code: Vec::new(),
            labels: Vec::new(),
            pool: Vec::new(),
            pool_since: None,
        }
    }
    /// A jump target that returns `k` (a `ret k` of the next pool).
    pub(crate) fn ret_to(&mut self, k: u32) -> To {
        self.pool_since.get_or_insert(self.code.len());
        if let Some((_, label)) = self.pool.iter().find(|(v, _)| *v == k) {
            return To::Label(*label);
        }
        let label = self.label();
        self.pool.push((k, label));
        To::Label(label)
    }
    /// Call where no instruction falls through: places the pending pool if
    /// `now` or if its first jump is getting far.
    pub(crate) fn pool_here(&mut self, now: bool) {
        let due = self
            .pool_since
            .is_some_and(|since| now || self.code.len() - since > POOL_DISTANCE);
        if due {
            for (k, label) in std::mem::take(&mut self.pool) {
                self.place(label);
                self.ret(k);
            }
            self.pool_since = None;
        }
    }
    pub(crate) fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }
    pub(crate) fn place(&mut self, label: usize) {
        self.labels[label] = Some(self.code.len());
    }
    pub(crate) fn ld(&mut self, offset: u32) {
        self.code.push((LD_W_ABS, To::Next, To::Next, offset));
    }
    pub(crate) fn and(&mut self, k: u32) {
        self.code.push((ALU_AND_K, To::Next, To::Next, k));
    }
    pub(crate) fn jeq(&mut self, k: u32, jt: To, jf: To) {
        self.code.push((JMP_JEQ_K, jt, jf, k));
    }
    pub(crate) fn jge(&mut self, k: u32, jt: To, jf: To) {
        self.code.push((JMP_JGE_K, jt, jf, k));
    }
    pub(crate) fn jset(&mut self, k: u32, jt: To, jf: To) {
        self.code.push((JMP_JSET_K, jt, jf, k));
    }
    /// Unconditional jump (32-bit offset, resolved in `finish`).
    pub(crate) fn ja(&mut self, label: usize) {
        self.code.push((JMP_JA, To::Label(label), To::Next, 0));
    }
    pub(crate) fn ret(&mut self, k: u32) {
        self.code.push((RET_K, To::Next, To::Next, k));
    }
    /// `if A == k { return action }`.
    pub(crate) fn ret_if_eq(&mut self, k: u32, action: u32) {
        let to = self.ret_to(action);
        self.jeq(k, to, To::Next);
    }
    /// `if A & mask != 0 { return action }`.
    pub(crate) fn ret_if_any(&mut self, mask: u32, action: u32) {
        let to = self.ret_to(action);
        self.jset(mask, to, To::Next);
    }

    /// Emits a decision tree over `ranges` (A holds the syscall number):
    /// `ranges[i] = (start, leaf)` covers the numbers from `start` up to the
    /// next range's start; the first starts at 0. One `jge` per inner node
    /// (two when the left subtree may be too long for an 8-bit jump); a
    /// return leaf is a jump into a pool, a block leaf a `ja`.
    pub(crate) fn tree(&mut self, ranges: &[(u32, Leaf)]) {
        let single_ret = |r: &[(u32, Leaf)]| match r {
            [(_, Leaf::Ret(k))] => Some(*k),
            _ => None,
        };
        match ranges {
            [] => {}
            [(_, leaf)] => match *leaf {
                Leaf::Ret(k) => self.ret(k),
                Leaf::Jump(label) => self.ja(label),
            },
            _ => {
                let (left, right) = ranges.split_at(ranges.len() / 2);
                let k = right[0].0;
                match (single_ret(left), single_ret(right)) {
                    (Some(l), Some(r)) => {
                        let (jt, jf) = (self.ret_to(r), self.ret_to(l));
                        self.jge(k, jt, jf);
                    }
                    (Some(l), None) => {
                        let jf = self.ret_to(l);
                        self.jge(k, To::Next, jf);
                        self.tree(right);
                    }
                    (None, Some(r)) => {
                        let jt = self.ret_to(r);
                        self.jge(k, jt, To::Next);
                        self.tree(left);
                    }
                    (None, None) => {
                        let to_right = self.label();
                        if u8::try_from(tree_len_bound(left.len())).is_ok() {
                            self.jge(k, To::Label(to_right), To::Next);
                        } else {
                            self.jge(k, To::Next, To::Skip1);
                            self.ja(to_right);
                        }
                        self.tree(left);
                        self.pool_here(false);
                        self.place(to_right);
                        self.tree(right);
                    }
                }
            }
        }
    }

    pub(crate) fn finish(self) -> Result<Vec<SockFilter>, &'static str> {
        let mut out = Vec::with_capacity(self.code.len());
        for (i, (code, jt, jf, k)) in self.code.iter().enumerate() {
            let offset = |to: &To| -> Result<usize, &'static str> {
                match to {
                    To::Next => Ok(0),
                    To::Skip1 => Ok(1),
                    To::Label(l) => {
                        let target = self.labels[*l].ok_or("unplaced label")?;
                        target.checked_sub(i + 1).ok_or("backward jump")
                    }
                }
            };
            if *code == JMP_JA {
                let k = u32::try_from(offset(jt)?).map_err(|_| "jump too far")?;
                out.push(SockFilter {
                    code: *code,
                    jt: 0,
                    jf: 0,
                    k,
                });
                continue;
            }
            let short =
                |to: &To| offset(to).and_then(|o| u8::try_from(o).map_err(|_| "jump too far"));
            out.push(SockFilter {
                code: *code,
                jt: short(jt)?,
                jf: short(jf)?,
                k: *k,
            });
        }
        if !self.pool.is_empty() {
            return Err("returns left in no pool");
        }
        if out.len() > MAX_INSNS {
            return Err("program longer than BPF_MAXINSNS");
        }
        Ok(out)
    }
}

/// What a range of syscall numbers leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Leaf {
    /// Return this action.
    Ret(u32),
    /// Jump to an argument-checking block.
    Jump(usize),
}

/// At most how long the tree `Asm::tree` emits for `n` ranges is, with the
/// pools it places (a node and a leaf per range, a `ja` per node, a pool of
/// at most four returns every `POOL_DISTANCE` instructions, and one after).
fn tree_len_bound(n: usize) -> usize {
    let code = 3 * n;
    code + 4 * (code / POOL_DISTANCE + 2)
}

/// Why the interpreter stopped without a verdict (the kernel rejects such a
/// program when it is installed).
#[cfg(any(test, feature = "probe"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// An opcode outside those seccomp accepts from this builder.
    Opcode(u16),
    /// A load outside `seccomp_data`, or not 4-byte aligned.
    Load(u32),
    /// A jump past the end, or running off the end.
    OffTheEnd,
}

/// Runs `program` on one system call the way the kernel's classic-BPF
/// interpreter does: `nr` and `arch` and the six arguments laid out as in
/// `struct seccomp_data` (little-endian, which every supported architecture
/// is). Returns the `SECCOMP_RET_*` value.
#[cfg(any(test, feature = "probe"))]
pub(crate) fn run(
    program: &[SockFilter],
    arch: u32,
    nr: u32,
    args: [u64; 6],
) -> Result<u32, Fault> {
    let mut data = [0u8; DATA_LEN];
    data[0..4].copy_from_slice(&nr.to_le_bytes());
    data[4..8].copy_from_slice(&arch.to_le_bytes());
    for (i, a) in args.iter().enumerate() {
        data[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
    }
    let mut acc: u32 = 0;
    let mut pc = 0usize;
    loop {
        let ins = program.get(pc).ok_or(Fault::OffTheEnd)?;
        pc += 1;
        let branch = |taken: bool| usize::from(if taken { ins.jt } else { ins.jf });
        match ins.code {
            LD_W_ABS => {
                let o = usize::try_from(ins.k).map_err(|_| Fault::Load(ins.k))?;
                if o % 4 != 0 || o + 4 > DATA_LEN {
                    return Err(Fault::Load(ins.k));
                }
                acc = u32::from_le_bytes([data[o], data[o + 1], data[o + 2], data[o + 3]]);
            }
            ALU_AND_K => acc &= ins.k,
            JMP_JA => pc += usize::try_from(ins.k).map_err(|_| Fault::OffTheEnd)?,
            JMP_JEQ_K => pc += branch(acc == ins.k),
            JMP_JGE_K => pc += branch(acc >= ins.k),
            JMP_JSET_K => pc += branch(acc & ins.k != 0),
            RET_K => return Ok(ins.k),
            other => return Err(Fault::Opcode(other)),
        }
    }
}

/// Whether the kernel's constant-action cache will skip the filter for
/// syscall `nr` of `arch`: the kernel emulates the program at install time
/// for every syscall number with only `nr` and `arch` known, and caches
/// ALLOW when no path loads an argument (`seccomp_is_const_allow` in
/// `kernel/seccomp.c`, which this follows instruction by instruction).
#[cfg(test)]
pub(crate) fn is_const_allow(program: &[SockFilter], arch: u32, nr: u32) -> bool {
    let mut acc: u32 = 0;
    let mut pc = 0usize;
    while let Some(ins) = program.get(pc) {
        pc += 1;
        let branch = |taken: bool| usize::from(if taken { ins.jt } else { ins.jf });
        match ins.code {
            LD_W_ABS => match ins.k {
                0 => acc = nr,
                4 => acc = arch,
                _ => return false,
            },
            ALU_AND_K => acc &= ins.k,
            JMP_JA => pc += ins.k as usize,
            JMP_JEQ_K => pc += branch(acc == ins.k),
            JMP_JGE_K => pc += branch(acc >= ins.k),
            JMP_JSET_K => pc += branch(acc & ins.k != 0),
            RET_K => return ins.k == super::RET_ALLOW,
            _ => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins(code: u16, jt: u8, jf: u8, k: u32) -> SockFilter {
        SockFilter { code, jt, jf, k }
    }

    #[test]
    fn every_opcode_is_interpreted() {
        // A = nr; A &= 0xff; if A == 7 → ret 1; if A >= 9 → ret 2;
        // if A & 0x10 → ret 3; A = arg0; ja +1; ret 4; ret A-independent 5.
        let p = [
            ins(LD_W_ABS, 0, 0, 0),
            ins(ALU_AND_K, 0, 0, 0xff),
            ins(JMP_JEQ_K, 0, 1, 7),
            ins(RET_K, 0, 0, 1),
            ins(JMP_JSET_K, 5, 0, 0x10),
            ins(JMP_JGE_K, 0, 1, 9),
            ins(RET_K, 0, 0, 2),
            ins(JMP_JA, 0, 0, 1),
            ins(RET_K, 0, 0, 4),
            ins(RET_K, 0, 0, 5),
            ins(RET_K, 0, 0, 3),
        ];
        assert_eq!(run(&p, 0, 0x107, [0; 6]), Ok(1), "and, then eq");
        assert_eq!(run(&p, 0, 9, [0; 6]), Ok(2));
        assert_eq!(run(&p, 0, 0x13, [0; 6]), Ok(3), "jset");
        assert_eq!(run(&p, 0, 2, [0; 6]), Ok(5), "ja skips one");
    }

    #[test]
    fn loads_read_seccomp_data_and_faults_are_caught() {
        let arg = |i: u32| [ins(LD_W_ABS, 0, 0, 16 + 8 * i), ins(RET_K, 0, 0, 0)];
        let no_ret = [ins(LD_W_ABS, 0, 0, 4), ins(JMP_JEQ_K, 0, 0, 0)];
        assert_eq!(run(&no_ret, 1, 0, [0; 6]), Err(Fault::OffTheEnd));
        let probe = |off: u32, want: u32| {
            [
                ins(LD_W_ABS, 0, 0, off),
                ins(JMP_JEQ_K, 0, 1, want),
                ins(RET_K, 0, 0, 1),
                ins(RET_K, 0, 0, 0),
            ]
        };
        assert_eq!(run(&probe(4, 0xc000_003e), 0xc000_003e, 0, [0; 6]), Ok(1));
        assert_eq!(run(&probe(0, 59), 0, 59, [0; 6]), Ok(1));
        assert_eq!(
            run(&probe(16 + 8 * 5, 42), 0, 0, [0, 0, 0, 0, 0, 42]),
            Ok(1)
        );
        assert_eq!(
            run(&probe(16 + 8 * 5 + 4, 1), 0, 0, [0, 0, 0, 0, 0, 1 << 32]),
            Ok(1),
            "high half"
        );
        assert_eq!(run(&arg(6), 0, 0, [0; 6]), Err(Fault::Load(64)));
        assert_eq!(
            run(&[ins(LD_W_ABS, 0, 0, 2)], 0, 0, [0; 6]),
            Err(Fault::Load(2))
        );
        assert_eq!(
            run(&[ins(0x07, 0, 0, 0)], 0, 0, [0; 6]),
            Err(Fault::Opcode(0x07))
        );
        assert_eq!(
            run(&[ins(JMP_JA, 0, 0, 5)], 0, 0, [0; 6]),
            Err(Fault::OffTheEnd)
        );
        assert_eq!(run(&[], 0, 0, [0; 6]), Err(Fault::OffTheEnd));
    }

    #[test]
    fn trees_pick_the_range_of_every_number() {
        for n in [1usize, 2, 3, 5, 64, 200, 700] {
            let mut asm = Asm::new();
            let ranges: Vec<(u32, Leaf)> = (0..n)
                .map(|i| {
                    (
                        u32::try_from(i * 3).unwrap(),
                        Leaf::Ret(u32::try_from(i).unwrap()),
                    )
                })
                .collect();
            asm.ld(0);
            asm.tree(&ranges);
            asm.pool_here(true);
            let p = asm.finish().unwrap();
            assert!(p.len() <= 1 + tree_len_bound(n), "{n} ranges");
            for nr in 0..u32::try_from(n * 3 + 5).unwrap() {
                let want = (nr / 3).min(u32::try_from(n - 1).unwrap());
                assert_eq!(run(&p, 0, nr, [0; 6]), Ok(want), "{nr} of {n} ranges");
            }
            assert_eq!(
                run(&p, 0, u32::MAX, [0; 6]),
                Ok(u32::try_from(n - 1).unwrap())
            );
        }
    }
}
