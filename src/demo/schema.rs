//! The demo retailer's own schema (not keyhole's model): table definitions
//! with a column type per dialect, and the DDL built from them. The built-in
//! query files map this schema onto keyhole's model the way a customer's
//! would map theirs.

use crate::source::Dialect;

pub struct ColumnDef {
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
    pub mysql: &'static str,
}

pub struct TableDef {
    pub name: &'static str,
    pub columns: &'static [ColumnDef],
}

const fn col(
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
    mysql: &'static str,
) -> ColumnDef {
    ColumnDef {
        name,
        sqlite,
        postgres,
        mysql,
    }
}

const TS: (&str, &str, &str) = ("TEXT", "TIMESTAMPTZ", "DATETIME");

const fn ts(name: &'static str) -> ColumnDef {
    col(name, TS.0, TS.1, TS.2)
}
const fn text(name: &'static str, n: &'static str) -> ColumnDef {
    col(name, "TEXT", "TEXT", n)
}
const fn int(name: &'static str) -> ColumnDef {
    col(name, "INTEGER", "BIGINT", "BIGINT")
}

pub const EMPLOYEES: TableDef = TableDef {
    name: "employees",
    columns: &[
        col(
            "emp_no",
            "INTEGER PRIMARY KEY",
            "BIGINT PRIMARY KEY",
            "BIGINT PRIMARY KEY",
        ),
        text("first_name", "VARCHAR(200)"),
        text("last_name", "VARCHAR(200)"),
        text("job_family", "VARCHAR(100)"),
        text("department", "VARCHAR(200)"),
        text("work_email", "VARCHAR(200)"),
        text("home_address", "VARCHAR(300)"),
        text("db_login", "VARCHAR(100)"),
        col("hired_on", "TEXT", "DATE", "DATE"),
        ts("left_at"),
    ],
};

pub const CUSTOMERS: TableDef = TableDef {
    name: "customers",
    columns: &[
        col(
            "customer_id",
            "INTEGER PRIMARY KEY",
            "BIGINT PRIMARY KEY",
            "BIGINT PRIMARY KEY",
        ),
        text("first_name", "VARCHAR(200)"),
        text("last_name", "VARCHAR(200)"),
        text("email", "VARCHAR(200)"),
        text("phone", "VARCHAR(50)"),
        text("street", "VARCHAR(300)"),
        text("city", "VARCHAR(100)"),
        text("region", "VARCHAR(20)"),
        text("country", "CHAR(2)"),
        col("tier", "TEXT", "customer_tier", "ENUM('standard','vip')"),
        int("employee_no"),
    ],
};

pub const TICKETS: TableDef = TableDef {
    name: "support_tickets",
    columns: &[
        col(
            "ticket_no",
            "TEXT PRIMARY KEY",
            "TEXT PRIMARY KEY",
            "VARCHAR(40) PRIMARY KEY",
        ),
        int("customer_id"),
        int("agent_no"),
        ts("opened_at"),
        ts("closed_at"),
    ],
};

pub const CLIENT_BOOK: TableDef = TableDef {
    name: "client_book",
    columns: &[
        int("emp_no"),
        int("customer_id"),
        ts("assigned_at"),
        ts("released_at"),
    ],
};

pub const ORDERS: TableDef = TableDef {
    name: "orders",
    columns: &[
        col(
            "order_no",
            "TEXT PRIMARY KEY",
            "TEXT PRIMARY KEY",
            "VARCHAR(40) PRIMARY KEY",
        ),
        int("customer_id"),
        int("picker_no"),
        ts("placed_at"),
        ts("shipped_at"),
    ],
};

pub const ACCESS_AUDIT: TableDef = TableDef {
    name: "access_audit",
    columns: &[
        col(
            "log_id",
            "INTEGER PRIMARY KEY",
            "BIGINT PRIMARY KEY",
            "BIGINT PRIMARY KEY",
        ),
        ts("logged_at"),
        int("emp_no"),
        int("customer_id"),
        text("op", "VARCHAR(40)"),
        text("dataset", "VARCHAR(40)"),
        text("reason", "VARCHAR(100)"),
        text("case_ref", "VARCHAR(100)"),
        col("src_ip", "TEXT", "INET", "VARCHAR(45)"),
        col("row_count", "INTEGER", "NUMERIC(12,0)", "INT"),
    ],
};

pub const LEGAL_REQUESTS: TableDef = TableDef {
    name: "legal_requests",
    columns: &[
        col(
            "req_id",
            "INTEGER PRIMARY KEY",
            "BIGINT PRIMARY KEY",
            "BIGINT PRIMARY KEY",
        ),
        text("req_type", "VARCHAR(40)"),
        text("requesting_party", "VARCHAR(200)"),
        text("docket_no", "VARCHAR(100)"),
        ts("received_at"),
        ts("due_at"),
        ts("answered_at"),
        text("state", "VARCHAR(40)"),
        text("approver", "VARCHAR(200)"),
        ts("gag_until"),
        ts("customers_notified_at"),
        text("scope", "VARCHAR(200)"),
        text("nda_ref", "VARCHAR(100)"),
    ],
};

pub const LEGAL_RECORDS: TableDef = TableDef {
    name: "legal_request_records",
    columns: &[
        int("req_id"),
        int("customer_id"),
        text("dataset", "VARCHAR(40)"),
        ts("sent_at"),
    ],
};

pub const PRIVACY_REQUESTS: TableDef = TableDef {
    name: "privacy_requests",
    columns: &[
        col(
            "ticket",
            "TEXT PRIMARY KEY",
            "TEXT PRIMARY KEY",
            "VARCHAR(40) PRIMARY KEY",
        ),
        int("customer_id"),
        text("req_type", "VARCHAR(40)"),
        text("via", "VARCHAR(40)"),
        ts("received_at"),
        ts("done_at"),
        text("outcome", "VARCHAR(40)"),
    ],
};

/// Settings the demo was built with, so a rerun can tell whether to rebuild.
pub const META: TableDef = TableDef {
    name: "keyhole_demo_meta",
    columns: &[
        text("setting", "VARCHAR(40)"),
        text("value", "VARCHAR(200)"),
    ],
};

/// Every planted violation: the rule and the key it will be reported under.
pub const PLANTED: TableDef = TableDef {
    name: "keyhole_demo_planted",
    columns: &[
        text("rule", "VARCHAR(60)"),
        text("flag_key", "VARCHAR(200)"),
        text("note", "VARCHAR(400)"),
    ],
};

pub const ALL: [&TableDef; 11] = [
    &EMPLOYEES,
    &CUSTOMERS,
    &TICKETS,
    &CLIENT_BOOK,
    &ORDERS,
    &ACCESS_AUDIT,
    &LEGAL_REQUESTS,
    &LEGAL_RECORDS,
    &PRIVACY_REQUESTS,
    &META,
    &PLANTED,
];

impl TableDef {
    pub fn ddl(&self, d: Dialect) -> String {
        let cols: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let ty = match d {
                    Dialect::Sqlite => c.sqlite,
                    Dialect::Postgres => c.postgres,
                    Dialect::Mysql => c.mysql,
                };
                format!("{} {}", c.name, ty)
            })
            .collect();
        let tail = if d == Dialect::Mysql {
            " DEFAULT CHARSET=utf8mb4"
        } else {
            ""
        };
        format!("CREATE TABLE {} ({}){tail}", self.name, cols.join(", "))
    }

    /// Cast applied to a bound text value in PostgreSQL (enum, inet, numeric).
    pub fn pg_cast(&self, i: usize) -> &'static str {
        match self.columns[i].postgres {
            "customer_tier" => "::customer_tier",
            "INET" => "::inet",
            "NUMERIC(12,0)" => "::numeric",
            _ => "",
        }
    }
}

/// Indexes that make the windowed query and the relationship lookups fast.
pub fn indexes() -> &'static [&'static str] {
    &[
        "CREATE INDEX access_audit_logged_at ON access_audit (logged_at)",
        "CREATE INDEX tickets_customer ON support_tickets (customer_id)",
        "CREATE INDEX legal_records_req ON legal_request_records (req_id)",
    ]
}
