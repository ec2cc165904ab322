fn main() {
    legitka_ui::start();
}
