//! The machine a benchmark ran on: offline voice speed depends on the processor's vector
//! extensions far more than on its clock (the same commit ran Whisper 3x slower on an
//! AVX2-only core than on one with AVX-512), so voice figures are printed with it.

/// "AMD EPYC, 2 cores, AVX-512 (f bw vnni) and AVX2", plus CTranslate2's forced ISA if set.
pub fn processor() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    describe(&info, std::env::var("CT2_FORCE_CPU_ISA").ok().as_deref())
}

fn describe(cpuinfo: &str, forced: Option<&str>) -> String {
    let field = |name: &str| {
        cpuinfo.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == name).then(|| v.trim().to_string())
        })
    };
    let model = field("model name").unwrap_or_else(|| "unknown processor".into());
    let cores = cpuinfo.lines().filter(|l| l.split(':').next().is_some_and(|k| k.trim() == "processor")).count();
    let flags: Vec<String> = field("flags").unwrap_or_default().split_whitespace().map(str::to_string).collect();
    let has = |f: &str| flags.iter().any(|x| x == f);
    let avx512: Vec<&str> = [("avx512f", "f"), ("avx512bw", "bw"), ("avx512_vnni", "vnni"), ("avx512_bf16", "bf16")]
        .iter()
        .filter(|(f, _)| has(f))
        .map(|(_, n)| *n)
        .collect();
    let vector = match (avx512.is_empty(), has("avx2")) {
        (false, _) => format!("AVX-512 ({}) and AVX2", avx512.join(" ")),
        (true, true) => "AVX2 (no AVX-512)".to_string(),
        (true, false) => "no AVX2".to_string(),
    };
    let forced = forced.map(|isa| format!("; CT2_FORCE_CPU_ISA={isa} (Whisper held to it)")).unwrap_or_default();
    format!("{model}, {cores} cores, {vector}{forced}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vector_extensions_are_named() {
        let cpu = |flags: &str| format!("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu {flags}\n\nprocessor\t: 1\n");
        assert_eq!(describe(&cpu("avx2 avx512f avx512_vnni"), None), "AMD EPYC, 2 cores, AVX-512 (f vnni) and AVX2");
        assert_eq!(
            describe(&cpu("avx avx2"), Some("AVX2")),
            "AMD EPYC, 2 cores, AVX2 (no AVX-512); CT2_FORCE_CPU_ISA=AVX2 (Whisper held to it)"
        );
        assert_eq!(describe("", None), "unknown processor, 0 cores, no AVX2");
    }
}
