//! Writes a retailer-shaped data set at scale, in the demo's own schema, as
//! tab-separated files that `bench/scale.sh` bulk-loads into SQLite,
//! PostgreSQL and MariaDB (the built-in query files then read it).
//!
//! The shape is a real company's, not the demo's: a million customers, ten
//! thousand staff, one relationship row (ticket, client book entry or order)
//! for every three access events, every relationship on one in ten
//! customers, about 85 % of accesses explained by a relationship, and a few
//! percent that break a rule.
//!
//! ```text
//! cargo run --release --example scale_gen -- --events 1000000 --out DIR
//! cargo run --release --example scale_gen -- --ddl postgres
//! ```
//!
//! NULL is written `\N`. Times are UTC, `YYYY-MM-DD HH:MM:SS`. The window
//! is the 90 days before `--anchor` (default 2026-11-24).

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use keyhole::demo::generate::Rng;
use keyhole::demo::schema;
use keyhole::source::Dialect;

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Support,
    ClientManager,
    Warehouse,
    Marketing,
    Finance,
    Legal,
    Privacy,
    Engineering,
}

impl Role {
    fn job_family(self) -> &'static str {
        match self {
            Role::Support => "Customer Care",
            Role::ClientManager => "Private Client",
            Role::Warehouse => "Warehouse",
            Role::Marketing => "Marketing",
            Role::Finance => "Finance",
            Role::Legal => "Legal",
            Role::Privacy => "Privacy Office",
            Role::Engineering => "Engineering",
        }
    }
    /// (actions, categories, purposes) the demo policy permits.
    fn allowed(
        self,
    ) -> (
        &'static [&'static str],
        &'static [&'static str],
        &'static [&'static str],
    ) {
        match self {
            Role::Support => (
                &["view", "view", "search", "update"],
                &["contact", "order_history"],
                &["support_ticket", "order_issue"],
            ),
            Role::ClientManager => (
                &["view", "update"],
                &["contact", "order_history", "preferences", "payment"],
                &["client_service", "order_issue"],
            ),
            Role::Warehouse => (
                &["view", "print"],
                &["contact", "order_history"],
                &["fulfilment"],
            ),
            Role::Marketing => (
                &["view", "search"],
                &["contact", "preferences"],
                &["marketing", "campaign"],
            ),
            Role::Finance => (
                &["view", "search"],
                &["payment", "order_history"],
                &["billing", "refund", "fraud_review"],
            ),
            Role::Legal => (
                &["view"],
                &["contact", "order_history", "payment"],
                &["legal_request", "legal_hold"],
            ),
            Role::Privacy => (
                &["view"],
                &["contact", "identity"],
                &["deletion_processing", "access_request"],
            ),
            Role::Engineering => (
                &["view", "search"],
                &["order_history"],
                &["incident_response"],
            ),
        }
    }
}

const FIRST: &[&str] = &[
    "Ava", "Liam", "Noah", "Emma", "Olivia", "Mia", "Lucas", "Amara", "Kenji", "Sofia", "Mateo",
    "Zara", "Ines", "Omar", "Priya", "Chen", "Yusuf", "Elena", "Tomas", "Freya", "Nadia", "Ravi",
];
const LAST: &[&str] = &[
    "Smith",
    "Garcia",
    "Nguyen",
    "Okafor",
    "Kowalski",
    "Haddad",
    "Silva",
    "Tanaka",
    "Muller",
    "Rossi",
    "Dubois",
    "Ivanova",
    "Kim",
    "Patel",
    "Hughes",
    "Larsen",
    "Moreau",
    "Costa",
    "Novak",
    "Schmidt",
    "Brennan",
    "Aziz",
    "Fischer",
    "Romero",
    "Walsh",
    "Sato",
    "Lindqvist",
    "Mensah",
];
const STREETS: &[&str] = &[
    "Harbor Lane",
    "Oak Street",
    "Maple Ave",
    "Elm Road",
    "Cedar Court",
    "Pine Way",
];
const CITIES: &[(&str, &str)] = &[
    ("Albany", "NY"),
    ("Austin", "TX"),
    ("Fresno", "CA"),
    ("Tampa", "FL"),
    ("Denver", "CO"),
    ("Seattle", "WA"),
    ("Boston", "MA"),
    ("Chicago", "IL"),
];

fn ts(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

struct Out {
    dir: PathBuf,
}

impl Out {
    fn file(&self, table: &str) -> BufWriter<std::fs::File> {
        let f = std::fs::File::create(self.dir.join(format!("{table}.tsv")))
            .unwrap_or_else(|e| panic!("cannot write {table}.tsv: {e}"));
        BufWriter::with_capacity(1 << 20, f)
    }
}

struct Rel {
    staff: u32,
    subject: u32,
    /// Seconds since the window start of the day the relationship is worked.
    day_start: i64,
    kind: u8,
}

struct Ev {
    t: i64,
    staff: u32,
    subject: u32,
    rel: u32,
    bad: bool,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if let Some(d) = arg("--ddl") {
        let dialect = match d.as_str() {
            "postgres" => Dialect::Postgres,
            "mysql" => Dialect::Mysql,
            "sqlite" => Dialect::Sqlite,
            other => panic!("--ddl takes postgres, mysql or sqlite, not {other}"),
        };
        if dialect == Dialect::Postgres {
            println!("CREATE TYPE customer_tier AS ENUM ('standard', 'vip');");
        }
        for t in schema::ALL {
            println!("{};", t.ddl(dialect));
        }
        return;
    }
    if args.iter().any(|a| a == "--indexes") {
        for i in schema::indexes() {
            println!("{i};");
        }
        return;
    }
    let num = |name: &str, default: u64| {
        arg(name)
            .map(|v| v.replace('_', "").parse::<u64>().expect("a whole number"))
            .unwrap_or(default)
    };
    let events = num("--events", 1_000_000);
    let subjects = num("--subjects", 1_000_000) as u32;
    let staff_n = num("--staff", 10_000) as u32;
    let anchor: NaiveDate = arg("--anchor")
        .unwrap_or_else(|| "2026-11-24".into())
        .parse()
        .expect("--anchor YYYY-MM-DD");
    let out = Out {
        dir: PathBuf::from(arg("--out").expect("--out DIR")),
    };
    std::fs::create_dir_all(&out.dir).expect("create --out");
    let start = (anchor - Duration::days(90)).and_hms_opt(0, 0, 0).unwrap();
    let at = |secs: i64| start + Duration::seconds(secs);
    let mut rng = Rng(0x006b_6579_686f_6c65);

    // Staff.
    let roles: Vec<Role> = (0..staff_n)
        .map(|i| match i * 100 / staff_n {
            0..=54 => Role::Support,
            55..=59 => Role::ClientManager,
            60..=74 => Role::Warehouse,
            75..=80 => Role::Marketing,
            81..=86 => Role::Finance,
            87..=88 => Role::Legal,
            89 => Role::Privacy,
            _ => Role::Engineering,
        })
        .collect();
    let staff_id = |i: u32| 100_000 + i as u64;
    let subject_id = |i: u32| 1_000_000 + i as u64;
    {
        let mut w = out.file("employees");
        for i in 0..staff_n {
            let (f, l) = (rng.pick(FIRST), rng.pick(LAST));
            let left = if rng.chance(0.01) {
                ts(at(rng.below(90 * 86_400) as i64))
            } else {
                "\\N".into()
            };
            writeln!(
                w,
                "{}\t{f}\t{l}\t{}\tStore Ops {}\t{}.{}{i}@corp.example\t{} Staff Row {i}\tdb_{i}\t2020-01-{:02}\t{left}",
                staff_id(i),
                roles[i as usize].job_family(),
                i % 40,
                f.to_lowercase(),
                l.to_lowercase(),
                i + 1,
                1 + i % 28
            )
            .unwrap();
        }
    }
    // Customers: every 50th staff member is a customer too.
    {
        let mut w = out.file("customers");
        for i in 0..subjects {
            let (f, l) = (rng.pick(FIRST), rng.pick(LAST));
            let (city, region) = rng.pick(CITIES);
            let tier = if rng.chance(0.01) && i % 2 == 0 {
                "vip"
            } else {
                "standard"
            };
            let emp = if i % 50 == 0 && i / 50 < staff_n / 50 {
                staff_id(i / 50 * 50).to_string()
            } else {
                "\\N".into()
            };
            writeln!(
                w,
                "{}\t{f}\t{l}\t{}.{}{}@mail.example\t+1 555 {:07}\t{} {}\t{city}\t{region}\tUS\t{tier}\t{emp}",
                subject_id(i),
                f.to_lowercase(),
                l.to_lowercase(),
                i,
                i,
                1 + i % 9000,
                rng.pick(STREETS),
            )
            .unwrap();
        }
    }
    // Relationships: one for every three events, all on one customer in ten.
    let by_role =
        |r: Role| -> Vec<u32> { (0..staff_n).filter(|&i| roles[i as usize] == r).collect() };
    let (support, managers, pickers) = (
        by_role(Role::Support),
        by_role(Role::ClientManager),
        by_role(Role::Warehouse),
    );
    let others: Vec<u32> = (0..staff_n)
        .filter(|&i| {
            matches!(
                roles[i as usize],
                Role::Marketing | Role::Finance | Role::Legal | Role::Privacy | Role::Engineering
            )
        })
        .collect();
    let related = (subjects / 10).max(1);
    let rel_n = (events / 3).max(1) as u32;
    let weekdays: Vec<i64> = (0..90)
        .filter(|d| {
            (start.date() + Duration::days(*d))
                .weekday()
                .num_days_from_monday()
                < 5
        })
        .collect();
    let mut rels: Vec<Rel> = Vec::with_capacity(rel_n as usize);
    for _ in 0..rel_n {
        let kind = match rng.below(10) {
            0..=6 => 0u8, // ticket
            7 => 1,       // client book
            _ => 2,       // order
        };
        let pool = match kind {
            0 => &support,
            1 => &managers,
            _ => &pickers,
        };
        rels.push(Rel {
            staff: *rng.pick(pool),
            subject: ((rng.below(related as u64) as u32).wrapping_mul(7919)) % subjects,
            day_start: rng.pick(&weekdays) * 86_400,
            kind,
        });
    }
    {
        let mut tickets = out.file("support_tickets");
        let mut book = out.file("client_book");
        let mut orders = out.file("orders");
        for (j, r) in rels.iter().enumerate() {
            let from = at(r.day_start + 12 * 3600 - rng.below(3 * 86_400) as i64);
            let to = if rng.chance(0.15) {
                "\\N".to_string()
            } else {
                ts(at(r.day_start + 22 * 3600 + rng.below(3 * 86_400) as i64))
            };
            let (st, su) = (staff_id(r.staff), subject_id(r.subject));
            match r.kind {
                0 => writeln!(tickets, "T-{j}\t{su}\t{st}\t{}\t{to}", ts(from)),
                1 => writeln!(book, "{st}\t{su}\t{}\t{to}", ts(from)),
                _ => writeln!(orders, "O-{j}\t{su}\t{st}\t{}\t{to}", ts(from)),
            }
            .unwrap();
        }
    }
    // Events: 85 % on a relationship's day inside working hours, 13 % by
    // roles that need none, 2 % anyone, anyone, any time.
    let mut evs: Vec<Ev> = Vec::with_capacity(events as usize);
    let office = |rng: &mut Rng, day: i64| day + 13 * 3600 + rng.below(8 * 3600) as i64;
    for _ in 0..events {
        let roll = rng.below(100);
        let ev = if roll < 85 {
            let j = rng.below(rel_n as u64) as u32;
            let r = &rels[j as usize];
            Ev {
                t: office(&mut rng, r.day_start),
                staff: r.staff,
                subject: r.subject,
                rel: j,
                bad: false,
            }
        } else if roll < 98 {
            let day = rng.pick(&weekdays) * 86_400;
            Ev {
                t: office(&mut rng, day),
                staff: *rng.pick(&others),
                subject: rng.below(subjects as u64) as u32,
                rel: u32::MAX,
                bad: false,
            }
        } else {
            Ev {
                t: rng.below(90 * 86_400) as i64,
                staff: rng.below(staff_n as u64) as u32,
                subject: rng.below(subjects as u64) as u32,
                rel: u32::MAX,
                bad: true,
            }
        };
        evs.push(ev);
    }
    evs.sort_by_key(|e| e.t);
    let mut w = out.file("access_audit");
    for (k, e) in evs.iter().enumerate() {
        let role = roles[e.staff as usize];
        let (acts, cats, purps) = role.allowed();
        let (act, cat, purp) = if e.bad {
            (
                *rng.pick(&["view", "export", "search"]),
                *rng.pick(&["contact", "payment", "identity"]),
                *rng.pick(&["support_ticket", "\\N", "curiosity"]),
            )
        } else {
            (*rng.pick(acts), *rng.pick(cats), *rng.pick(purps))
        };
        let reference = match e.rel {
            u32::MAX => "\\N".to_string(),
            j => match rels[j as usize].kind {
                0 => format!("T-{j}"),
                1 => "\\N".to_string(),
                _ => format!("O-{j}"),
            },
        };
        writeln!(
            w,
            "{}\t{}\t{}\t{}\t{act}\t{cat}\t{purp}\t{reference}\t10.{}.{}.{}\t1",
            k + 1,
            ts(at(e.t)),
            staff_id(e.staff),
            subject_id(e.subject),
            e.staff >> 16,
            (e.staff >> 8) & 255,
            e.staff & 255,
        )
        .unwrap();
    }
    w.flush().unwrap();
    eprintln!(
        "scale_gen: {} staff, {} subjects, {} relationship rows, {} events in {}",
        staff_n,
        subjects,
        rel_n,
        events,
        out.dir.display()
    );
}
