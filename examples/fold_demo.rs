fn main() {
    for a in std::env::args().skip(1) {
        let f = chatguard::fold::fold(&a);
        println!(
            "{a:?}\n  word={:?} collapsed={:?} leet={:?} joined={:?} {:?}",
            f.word, f.word_collapsed, f.leet, f.joined, f.stats
        );
    }
}
