//! `cargo xtask check-tiers`: the dependency rules of ARCHITECTURE.md, checked mechanically.
//!
//! For every core crate, the NORMAL dependency graph (dependency kind `null` in `cargo metadata`;
//! dev- and build-dependencies are not followed) is walked transitively, once per target in
//! [`TARGETS`] (the host is added at run time), using
//! `cargo metadata --format-version 1 --filter-platform <triple>`. The walk reports:
//! - a crate from [`FORBIDDEN_EXTERNAL`] (I/O runtimes, browser and Python bindings, ambient
//!   randomness), with the shortest chain that reaches it;
//! - one of our driver or internal crates, or any workspace package that is not core;
//! - an edge between two core crates that is not in [`ALLOWED_CORE_EDGES`].
//!
//! Proc-macro dependencies are normal edges and are walked too (conservative). Features are
//! resolved per core crate, as `cargo build -p <core>` resolves them (the packages in
//! `cargo tree -p <core> -e normal --target <triple>`): a feature that a driver turns on for a
//! shared dependency (the proxy's JWT crate enabling `rand_core/getrandom`, the wasm driver's
//! `getrandom/js`) is the driver's business and does not count against the core crate, while
//! anything the core crate itself pulls in does.
//!
//! It also checks that each core crate's library root contains `#![forbid(unsafe_code)]`.
//!
//! Which crates are core: [`TIER_TABLE`] below, plus any workspace package with
//! `[package.metadata.rfb] tier = "core"`. The table wins: a crate named in it has the table's
//! tier, and a package whose metadata names a different tier is itself reported as a violation,
//! so the two can never silently disagree. Packages not in the table take the metadata's tier;
//! workspace packages with neither are treated as non-core.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::{Result, cargo, show, workspace_root};

/// A crate's tier; see ARCHITECTURE.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tier {
    Core,
    Driver,
    Internal,
}

impl Tier {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "core" => Some(Self::Core),
            "driver" => Some(Self::Driver),
            "internal" => Some(Self::Internal),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Core => "core",
            Self::Driver => "driver",
            Self::Internal => "internal",
        }
    }
}

/// Our crates by package name, existing or planned (a missing one is simply not checked).
pub(crate) const TIER_TABLE: &[(&str, Tier)] = &[
    ("rfb-encodings", Tier::Core),
    ("rfb-core", Tier::Core),
    ("rfb-keysym", Tier::Core),
    ("rfb-input", Tier::Core),
    ("rfb-ws", Tier::Core),
    ("rfb-server", Tier::Core),
    ("rfb-tls", Tier::Core),
    ("rfb-cli", Tier::Driver),
    ("rfb-proxy", Tier::Driver),
    ("rfb-web", Tier::Driver),
    ("rfb-c", Tier::Driver),
    ("rfb-py", Tier::Driver),
    ("rfb-testkit", Tier::Internal),
    ("xtask", Tier::Internal),
];

/// The only permitted dependencies of one core crate on another (from, to).
pub(crate) const ALLOWED_CORE_EDGES: &[(&str, &str)] = &[
    ("rfb-core", "rfb-encodings"),
    ("rfb-server", "rfb-encodings"),
    ("rfb-tls", "rfb-core"),
];

/// Third-party crates that must not appear in a core crate's normal graph, and why.
pub(crate) const FORBIDDEN_EXTERNAL: &[(&str, &str)] = &[
    ("tokio", "async runtime: core crates do no I/O"),
    ("mio", "I/O event loop: core crates do no I/O"),
    ("socket2", "sockets: core crates do no I/O"),
    ("async-std", "async runtime: core crates do no I/O"),
    ("async-io", "async I/O reactor: core crates do no I/O"),
    ("smol", "async runtime: core crates do no I/O"),
    ("web-sys", "browser bindings belong in web/ (driver)"),
    ("js-sys", "browser bindings belong in web/ (driver)"),
    ("wasm-bindgen", "browser bindings belong in web/ (driver)"),
    ("pyo3", "Python bindings belong in bindings/python (driver)"),
    (
        "getrandom",
        "ambient randomness: inject the RNG as &mut dyn RngCore",
    ),
];

/// Exceptions to [`FORBIDDEN_EXTERNAL`] for one core crate: (core crate, dependency, why).
/// Each one is a decision recorded in the architecture decisions, not a convenience.
pub(crate) const ALLOWED_EXTERNAL: &[(&str, &str, &str)] = &[(
    "rfb-tls",
    "getrandom",
    "rustls draws its randomness (client random, key shares) from the crypto provider, \
     which reads getrandom and takes no injected RNG; on wasm32 getrandom 0.2 is built with \
     its `custom` backend, so the driver still supplies the source (the web driver registers \
     crypto.getRandomValues) and no browser bindings enter the core graph",
)];

/// Targets every core crate must stay clean for, besides the host.
const TARGETS: &[&str] = &["wasm32-unknown-unknown"];

/// The attribute every core crate's library root must carry.
const FORBID_UNSAFE: &str = "#![forbid(unsafe_code)]";

/// One package of the resolved graph.
#[derive(Debug)]
struct Package {
    name: String,
    version: String,
    /// `[package.metadata.rfb] tier`, verbatim.
    metadata_tier: Option<String>,
    /// The `lib` target's root source file, if there is one.
    lib_src: Option<PathBuf>,
}

/// The parts of `cargo metadata` output the check needs.
#[derive(Debug)]
struct Graph {
    packages: BTreeMap<String, Package>,
    workspace_members: Vec<String>,
    /// Normal (non-dev, non-build) dependency edges by package id.
    normal_deps: BTreeMap<String, Vec<String>>,
}

impl Graph {
    fn from_metadata(metadata: &Value) -> Result<Self> {
        let mut packages = BTreeMap::new();
        for package in array(metadata, "packages")? {
            let id = string(package, "id")?;
            let metadata_tier = package
                .get("metadata")
                .and_then(|m| m.get("rfb"))
                .and_then(|m| m.get("tier"))
                .map(|t| t.as_str().map_or_else(|| t.to_string(), str::to_owned));
            let lib_src = package
                .get("targets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|t| {
                    t.get("kind")
                        .and_then(Value::as_array)
                        .is_some_and(|kinds| kinds.iter().any(|k| k == "lib"))
                })
                .and_then(|t| t.get("src_path"))
                .and_then(Value::as_str)
                .map(PathBuf::from);
            let name = string(package, "name")?;
            let version = string(package, "version")?;
            packages.insert(
                id,
                Package {
                    name,
                    version,
                    metadata_tier,
                    lib_src,
                },
            );
        }
        let workspace_members = array(metadata, "workspace_members")?
            .iter()
            .map(|m| m.as_str().map(str::to_owned).ok_or("non-string member"))
            .collect::<std::result::Result<_, _>>()?;
        let resolve = metadata
            .get("resolve")
            .filter(|r| !r.is_null())
            .ok_or("cargo metadata has no `resolve` section")?;
        let mut normal_deps = BTreeMap::new();
        for node in array(resolve, "nodes")? {
            let mut deps = Vec::new();
            for dep in array(node, "deps")? {
                let normal = array(dep, "dep_kinds")?
                    .iter()
                    .any(|k| k.get("kind").is_none_or(Value::is_null));
                if normal {
                    deps.push(string(dep, "pkg")?);
                }
            }
            normal_deps.insert(string(node, "id")?, deps);
        }
        Ok(Self {
            packages,
            workspace_members,
            normal_deps,
        })
    }

    fn name<'a>(&'a self, id: &'a str) -> &'a str {
        self.packages.get(id).map_or(id, |p| p.name.as_str())
    }
}

fn array<'a>(value: &'a Value, key: &str) -> Result<&'a Vec<Value>> {
    value
        .get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("cargo metadata: `{key}` is missing or not an array"))
}

fn string(value: &Value, key: &str) -> Result<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("cargo metadata: `{key}` is missing or not a string"))
}

/// The tier of each workspace package (by id), plus problems found while classifying.
#[derive(Debug)]
struct Tiers {
    by_id: BTreeMap<String, Tier>,
    problems: Vec<String>,
}

fn table_tier(name: &str) -> Option<Tier> {
    TIER_TABLE
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, tier)| tier)
}

fn classify(graph: &Graph) -> Tiers {
    let mut by_id = BTreeMap::new();
    let mut problems = Vec::new();
    for id in &graph.workspace_members {
        let Some(package) = graph.packages.get(id) else {
            continue;
        };
        let from_metadata = match package.metadata_tier.as_deref() {
            None => None,
            Some(raw) => match Tier::parse(raw) {
                Some(tier) => Some(tier),
                None => {
                    problems.push(format!(
                        "{}: [package.metadata.rfb] tier = {raw:?} is not one of \"core\", \
                         \"driver\", \"internal\"",
                        package.name
                    ));
                    None
                }
            },
        };
        let tier = match (table_tier(&package.name), from_metadata) {
            (Some(table), Some(meta)) if table != meta => {
                problems.push(format!(
                    "{}: [package.metadata.rfb] tier = \"{}\" disagrees with xtask's tier table \
                     (\"{}\"); the table wins, fix one of them",
                    package.name,
                    meta.name(),
                    table.name()
                ));
                Some(table)
            }
            (Some(table), _) => Some(table),
            (None, meta) => meta,
        };
        if let Some(tier) = tier {
            by_id.insert(id.clone(), tier);
        }
    }
    Tiers { by_id, problems }
}

/// One offending chain, root first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Violation {
    chain: Vec<String>,
    reason: String,
}

/// Why the edge `from → to` may not be in a core crate's graph, if it may not.
fn edge_problem(graph: &Graph, tiers: &Tiers, from: &str, to: &str) -> Option<String> {
    let to_name = graph.name(to);
    if let Some((_, reason)) = FORBIDDEN_EXTERNAL.iter().find(|(n, _)| *n == to_name) {
        return Some((*reason).to_owned());
    }
    let ours = graph.workspace_members.iter().any(|m| m == to) || table_tier(to_name).is_some();
    if !ours {
        return None;
    }
    let to_tier = tiers.by_id.get(to).copied().or_else(|| table_tier(to_name));
    match to_tier {
        Some(Tier::Core) => {
            let from_name = graph.name(from);
            if ALLOWED_CORE_EDGES.contains(&(from_name, to_name)) {
                None
            } else {
                Some(format!(
                    "core → core edge {from_name} → {to_name} is not in ALLOWED_CORE_EDGES"
                ))
            }
        }
        Some(tier) => Some(format!("{} crate in a core crate's graph", tier.name())),
        None => Some(
            "workspace package without a tier in a core crate's graph (core crates may depend \
             only on allowed core crates and third-party crates)"
                .to_owned(),
        ),
    }
}

/// Breadth-first walk of `root`'s normal graph; each offending crate is reported once, with
/// the shortest chain, and the walk does not descend past it.
fn walk(
    graph: &Graph,
    tiers: &Tiers,
    root: &str,
    allowed: Option<&BTreeSet<(String, String)>>,
) -> Vec<Violation> {
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    let mut seen: BTreeSet<&str> = BTreeSet::from([root]);
    let mut reported: BTreeSet<&str> = BTreeSet::new();
    let mut queue = VecDeque::from([root]);
    let mut violations = Vec::new();
    let chain_to = |parent: &BTreeMap<&str, &str>, last: &str| {
        let mut chain = vec![graph.name(last).to_owned()];
        let mut at = last;
        while let Some(&up) = parent.get(at) {
            chain.push(graph.name(up).to_owned());
            at = up;
        }
        chain.reverse();
        chain
    };
    while let Some(node) = queue.pop_front() {
        for dep in graph.normal_deps.get(node).into_iter().flatten() {
            let dep = dep.as_str();
            // Only packages that building this core crate alone would compile.
            if let (Some(allowed), Some(p)) = (allowed, graph.packages.get(dep))
                && !allowed.contains(&(p.name.clone(), p.version.clone()))
            {
                continue;
            }
            let excepted = ALLOWED_EXTERNAL
                .iter()
                .any(|(c, d, _)| *c == graph.name(root) && *d == graph.name(dep));
            if let Some(reason) = edge_problem(graph, tiers, node, dep).filter(|_| !excepted) {
                if reported.insert(dep) || tiers.by_id.get(dep) == Some(&Tier::Core) {
                    let mut chain = chain_to(&parent, node);
                    chain.push(graph.name(dep).to_owned());
                    violations.push(Violation { chain, reason });
                }
                continue;
            }
            if seen.insert(dep) {
                parent.insert(dep, node);
                queue.push_back(dep);
            }
        }
    }
    violations
}

/// Whether a library root carries `#![forbid(unsafe_code)]` (possibly among other lints).
fn forbids_unsafe(source: &str) -> bool {
    source.lines().map(str::trim).any(|line| {
        line == FORBID_UNSAFE
            || (line.starts_with("#![forbid(")
                && line
                    .trim_start_matches("#![forbid(")
                    .split([',', ')'])
                    .any(|lint| lint.trim() == "unsafe_code"))
    })
}

/// All violations of one resolved graph, and the names of its core crates. `per_crate`
/// restricts each core crate's walk to the packages it compiles when built alone (see the
/// module docs); `None` walks the whole resolve (the unit tests' in-memory graphs).
/// `(name, version)` pairs of the packages one crate compiles.
type PackageSet = BTreeSet<(String, String)>;

/// Violations, core crate names, tier-table problems.
type Findings = (Vec<Violation>, Vec<String>, Vec<String>);

/// Resolves the packages a core crate compiles when built alone.
type PerCrate<'a> = &'a dyn Fn(&str) -> Result<PackageSet>;

fn check_graph_with(graph: &Graph, per_crate: Option<PerCrate<'_>>) -> Result<Findings> {
    let tiers = classify(graph);
    let mut violations = Vec::new();
    let mut core = Vec::new();
    for id in &graph.workspace_members {
        if tiers.by_id.get(id) == Some(&Tier::Core) {
            let name = graph.name(id).to_owned();
            let allowed = per_crate.map(|f| f(&name)).transpose()?;
            violations.extend(walk(graph, &tiers, id, allowed.as_ref()));
            core.push(name);
        }
    }
    Ok((violations, core, tiers.problems))
}

#[cfg(test)]
fn check_graph(graph: &Graph) -> Findings {
    check_graph_with(graph, None).expect("no per-crate resolution in tests")
}

/// `(name, version)` of every package `cargo tree -p CRATE -e normal --target TRIPLE` lists.
fn crate_tree(krate: &str, triple: &str) -> Result<PackageSet> {
    let mut command = cargo();
    command.args([
        "tree", "-p", krate, "-e", "normal", "--target", triple, "--prefix", "none", "--format",
        "{p}",
    ]);
    let shown = show(&command);
    let output = command
        .output()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`{shown}` failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let name = it.next()?;
            let version = it.next()?.strip_prefix('v')?;
            Some((name.to_owned(), version.to_owned()))
        })
        .collect())
}

fn metadata(triple: &str) -> Result<Value> {
    let mut command = cargo();
    command.args([
        "metadata",
        "--format-version",
        "1",
        "--filter-platform",
        triple,
    ]);
    let shown = show(&command);
    let output = command
        .output()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`{shown}` failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("`{shown}`: bad JSON: {e}"))
}

fn host_triple() -> Result<String> {
    let output = Command::new("rustc")
        .arg("-vV")
        .output()
        .map_err(|e| format!("could not run `rustc -vV`: {e}"))?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "`rustc -vV` printed no host triple".to_owned())
}

/// The `check-tiers` command.
pub(crate) fn check_tiers() -> Result<()> {
    let mut triples = vec![host_triple()?];
    triples.extend(TARGETS.iter().map(|t| (*t).to_owned()));

    // The same chain on several targets is printed once, naming the targets.
    let mut found: BTreeMap<Violation, Vec<String>> = BTreeMap::new();
    let mut problems: BTreeSet<String> = BTreeSet::new();
    let mut core_crates: BTreeSet<String> = BTreeSet::new();
    let mut unsafe_problems = Vec::new();
    for (index, triple) in triples.iter().enumerate() {
        let graph = Graph::from_metadata(&metadata(triple)?)?;
        let per_crate = |k: &str| crate_tree(k, triple);
        let (violations, core, tier_problems) = check_graph_with(&graph, Some(&per_crate))?;
        for v in violations {
            found.entry(v).or_default().push(triple.clone());
        }
        problems.extend(tier_problems);
        core_crates.extend(core);
        if index == 0 {
            unsafe_problems = unsafe_check(&graph);
        }
    }

    let root = workspace_root();
    let mut count = 0;
    for problem in problems.iter().chain(&unsafe_problems) {
        println!("check-tiers: {problem}");
        count += 1;
    }
    for (violation, targets) in &found {
        println!(
            "check-tiers: [{}] {}: {}",
            targets.join(", "),
            violation.chain.join(" → "),
            violation.reason
        );
        count += 1;
    }
    if count > 0 {
        return Err(format!(
            "{count} tier violation(s); the rules are in {}",
            root.join("ARCHITECTURE.md").display()
        ));
    }
    let names: Vec<&str> = core_crates.iter().map(String::as_str).collect();
    println!(
        "check-tiers: checked {} for {}",
        names.join(", "),
        triples.join(" and ")
    );
    println!("check-tiers: {} core crates ok", core_crates.len());
    Ok(())
}

fn unsafe_check(graph: &Graph) -> Vec<String> {
    let tiers = classify(graph);
    let mut problems = Vec::new();
    for id in &graph.workspace_members {
        if tiers.by_id.get(id) != Some(&Tier::Core) {
            continue;
        }
        let package = &graph.packages[id];
        let Some(path) = &package.lib_src else {
            problems.push(format!(
                "{}: core crate has no library target",
                package.name
            ));
            continue;
        };
        match std::fs::read_to_string(path) {
            Ok(source) if forbids_unsafe(&source) => {}
            Ok(_) => problems.push(format!(
                "{}: {} lacks `{FORBID_UNSAFE}`",
                package.name,
                path.display()
            )),
            Err(e) => problems.push(format!(
                "{}: cannot read {}: {e}",
                package.name,
                path.display()
            )),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A metadata document with the given packages (name, metadata tier), workspace members and
    /// edges (from, to, kind) where kind is `None` for normal, `Some("dev")`, `Some("build")`.
    fn metadata_json(
        packages: &[(&str, Option<&str>)],
        members: &[&str],
        edges: &[(&str, &str, Option<&str>)],
    ) -> Value {
        let id = |name: &str| format!("id-{name}");
        let packages: Vec<Value> = packages
            .iter()
            .map(|(name, tier)| {
                let metadata = match tier {
                    Some(t) => serde_json::json!({ "rfb": { "tier": t } }),
                    None => Value::Null,
                };
                serde_json::json!({
                    "id": id(name),
                    "name": name,
                    "version": "0.1.0",
                    "metadata": metadata,
                    "targets": [{ "kind": ["lib"], "src_path": format!("/x/{name}/src/lib.rs") }],
                })
            })
            .collect();
        let mut nodes: BTreeMap<String, Vec<Value>> = packages
            .iter()
            .map(|p| (p["id"].as_str().unwrap().to_owned(), Vec::new()))
            .collect();
        for (from, to, kind) in edges {
            nodes.get_mut(&id(from)).unwrap().push(serde_json::json!({
                "pkg": id(to),
                "dep_kinds": [{ "kind": kind, "target": null }],
            }));
        }
        let nodes: Vec<Value> = nodes
            .into_iter()
            .map(|(id, deps)| serde_json::json!({ "id": id, "deps": deps }))
            .collect();
        serde_json::json!({
            "packages": packages,
            "workspace_members": members.iter().map(|m| id(m)).collect::<Vec<_>>(),
            "resolve": { "nodes": nodes, "root": null },
        })
    }

    fn check(json: &Value) -> (Vec<Violation>, Vec<String>, Vec<String>) {
        check_graph(&Graph::from_metadata(json).unwrap())
    }

    #[test]
    fn finds_a_transitive_forbidden_crate_with_its_chain() {
        let json = metadata_json(
            &[
                ("rfb-encodings", None),
                ("rfb-core", None),
                ("rfb-cli", None),
                ("foo", None),
                ("bar", None),
                ("tokio", None),
                ("getrandom", None),
            ],
            &["rfb-encodings", "rfb-core", "rfb-cli"],
            &[
                ("rfb-core", "rfb-encodings", None),
                ("rfb-encodings", "foo", None),
                ("foo", "bar", None),
                ("bar", "tokio", None),
                // Dev- and build-dependencies are not part of the shipped graph.
                ("rfb-core", "getrandom", Some("dev")),
                ("rfb-encodings", "getrandom", Some("build")),
                // Drivers may use anything.
                ("rfb-cli", "tokio", None),
                ("rfb-cli", "rfb-core", None),
            ],
        );
        let (violations, core, problems) = check(&json);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(core, ["rfb-encodings", "rfb-core"]);
        let chains: Vec<String> = violations.iter().map(|v| v.chain.join(" → ")).collect();
        assert_eq!(
            chains,
            [
                "rfb-encodings → foo → bar → tokio",
                "rfb-core → rfb-encodings → foo → bar → tokio",
            ]
        );
        assert!(violations[0].reason.contains("no I/O"));
    }

    #[test]
    fn clean_graph_passes() {
        let json = metadata_json(
            &[("rfb-encodings", None), ("rfb-core", None), ("nom", None)],
            &["rfb-encodings", "rfb-core"],
            &[
                ("rfb-core", "rfb-encodings", None),
                ("rfb-core", "nom", None),
                ("rfb-core", "tokio-dev-only", Some("dev")),
            ],
        );
        let (violations, core, problems) = check(&json);
        assert_eq!((violations.len(), core.len(), problems.len()), (0, 2, 0));
    }

    #[test]
    fn core_edges_and_driver_crates_are_checked() {
        let json = metadata_json(
            &[
                ("rfb-encodings", None),
                ("rfb-core", None),
                ("rfb-keysym", None),
                ("rfb-testkit", None),
                ("rfb-extra", Some("core")),
                ("helper", None),
            ],
            &[
                "rfb-encodings",
                "rfb-core",
                "rfb-keysym",
                "rfb-testkit",
                "rfb-extra",
            ],
            &[
                ("rfb-encodings", "rfb-keysym", None),
                ("rfb-keysym", "helper", None),
                ("helper", "rfb-testkit", None),
                ("rfb-extra", "rfb-core", None),
            ],
        );
        let (violations, core, _) = check(&json);
        assert!(
            core.contains(&"rfb-extra".to_owned()),
            "metadata tier counts"
        );
        let chains: Vec<String> = violations.iter().map(|v| v.chain.join(" → ")).collect();
        assert!(chains.contains(&"rfb-encodings → rfb-keysym".to_owned()));
        assert!(chains.contains(&"rfb-keysym → helper → rfb-testkit".to_owned()));
        assert!(chains.contains(&"rfb-extra → rfb-core".to_owned()));
        assert_eq!(chains.len(), 3, "{chains:?}");
    }

    #[test]
    fn table_wins_over_disagreeing_metadata() {
        let json = metadata_json(
            &[("rfb-core", Some("driver")), ("tokio", None)],
            &["rfb-core"],
            &[("rfb-core", "tokio", None)],
        );
        let (violations, core, problems) = check(&json);
        assert_eq!(core, ["rfb-core"]);
        assert_eq!(violations.len(), 1);
        assert!(problems[0].contains("disagrees"), "{problems:?}");
    }

    #[test]
    fn forbid_unsafe_detection() {
        assert!(forbids_unsafe("//! docs\n#![forbid(unsafe_code)]\n"));
        assert!(forbids_unsafe("#![forbid(missing_docs, unsafe_code)]"));
        assert!(!forbids_unsafe("// #![forbid(unsafe_code)]\n"));
        assert!(!forbids_unsafe("#![deny(unsafe_code)]"));
        assert!(!forbids_unsafe("#![forbid(unsafe_op_in_unsafe_fn)]"));
    }
}
