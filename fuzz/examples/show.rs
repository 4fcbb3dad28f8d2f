use arbitrary::{Arbitrary, Unstructured};
fn main() {
    let t = std::env::args().nth(1).unwrap();
    let data = std::fs::read(std::env::args().nth(2).unwrap()).unwrap();
    match t.as_str() {
        "pair" => println!(
            "{:#?}",
            ws_proto_fuzz::pair::Input::arbitrary_take_rest(Unstructured::new(&data))
        ),
        _ => println!("{data:?}"),
    }
}
