// Embeds every file under templates/ into the binary, so the tool is one file.
fn main() {
    minijinja_embed::embed_templates!("templates");
}
