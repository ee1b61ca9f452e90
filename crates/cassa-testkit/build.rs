// The PostgreSQL template embeds cassa-store's migrations (sqlx::migrate!):
// rebuild when one is added or changed.
fn main() {
    println!("cargo:rerun-if-changed=../cassa-store/migrations");
}
