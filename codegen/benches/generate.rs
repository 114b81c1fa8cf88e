//! Generation time (parse, check, emit, format) for the seed spec and synthetic specs of
//! 10 to 10,000 operations, each exposed as a REST route and an MCP tool.
//! `cargo bench -p naftiko-codegen --bench generate`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// A spec with `n` operations, each with a path and a query parameter, a route and a tool.
pub fn synthetic(n: usize) -> String {
    let mut s = String::from(
        "naftiko: 1.0.0-alpha2\ninfo:\n  label: Synthetic\n  description: Synthetic spec.\nbinds:\n- namespace: env\n  keys:\n    TOKEN: TOKEN\ncapability:\n  consumes:\n  - type: http\n    namespace: api\n    baseUri: https://api.example.com/v1\n    authentication:\n      type: bearer\n      token: '{{env.TOKEN}}'\n    resources:\n",
    );
    for i in 0..n {
        s.push_str(&format!(
            "    - name: res{i}\n      path: /things{i}/{{thing_id}}\n      operations:\n      - name: op{i}\n        method: GET\n        description: Operation {i}\n        inputParameters:\n        - name: thing_id\n          in: path\n          type: string\n          required: true\n        - name: limit\n          in: query\n          type: integer\n"
        ));
    }
    s.push_str(
        "  exposes:\n  - type: rest\n    namespace: api-rest\n    port: 8080\n    resources:\n",
    );
    for i in 0..n {
        s.push_str(&format!(
            "    - path: /v1/things{i}/{{thing-id}}\n      name: r{i}\n      operations:\n      - method: GET\n        name: op{i}\n        call: api.op{i}\n"
        ));
    }
    s.push_str("  - type: mcp\n    namespace: api-mcp\n    port: 9090\n    tools:\n");
    for i in 0..n {
        s.push_str(&format!(
            "    - name: tool-{i}\n      description: Tool {i}\n      call: api.op{i}\n"
        ));
    }
    s
}

fn bench(c: &mut Criterion) {
    let seed = include_str!("../../specs/lago-customers.yaml");
    c.bench_function("generate/seed (9 operations)", |b| {
        b.iter(|| naftiko_codegen::generate_str("lago-customers.yaml", seed).expect("valid"))
    });
    let mut group = c.benchmark_group("generate/synthetic");
    for n in [10usize, 100, 1_000, 10_000] {
        let text = synthetic(n);
        group.throughput(Throughput::Elements(n as u64));
        if n >= 1_000 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| {
                naftiko_codegen::generate_str("synthetic.yaml", text.as_str()).expect("valid")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
