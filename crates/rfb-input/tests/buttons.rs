//! DOM button values → RFB mask bits.

use rfb_input::buttons::{self, Button};

#[test]
fn dom_button_to_rfb_bit() {
    let table = [
        (0, Button::Left, Some(1 << 0)),
        (1, Button::Middle, Some(1 << 1)),
        (2, Button::Right, Some(1 << 2)),
        (3, Button::Back, Some(1 << 7)),
        (4, Button::Forward, Some(1 << 8)),
        (5, Button::Unknown(5), None),
        (-1, Button::Unknown(-1), None),
        (i16::MAX, Button::Unknown(i16::MAX), None),
    ];
    for (dom, button, bit) in table {
        assert_eq!(Button::from_dom(dom), button, "button {dom}");
        assert_eq!(button.mask(), bit, "button {dom}");
    }
}

#[test]
fn dom_buttons_bitfield_to_rfb_mask() {
    let table = [
        (0u16, 0u16),
        (1, buttons::LEFT),
        (2, buttons::RIGHT),
        (4, buttons::MIDDLE),
        (8, buttons::BACK),
        (16, buttons::FORWARD),
        (1 | 2 | 4, 0b111),
        (31, 0b1_1000_0111),
        (0xffe0, 0), // unknown DOM bits are dropped
    ];
    for (dom, mask) in table {
        assert_eq!(
            buttons::mask_from_dom_buttons(dom),
            mask,
            "buttons {dom:#x}"
        );
    }
}

#[test]
fn wheel_bits_are_buttons_4_to_7() {
    assert_eq!(buttons::WHEEL_UP, 8);
    assert_eq!(buttons::WHEEL_DOWN, 16);
    assert_eq!(buttons::WHEEL_LEFT, 32);
    assert_eq!(buttons::WHEEL_RIGHT, 64);
    assert_eq!(buttons::WHEEL & buttons::HOLDABLE, 0);
}

#[test]
fn extended_buttons() {
    assert!(
        !buttons::needs_extended(buttons::LEFT | buttons::BACK),
        "back fits the normal form"
    );
    assert!(buttons::needs_extended(buttons::FORWARD));
    assert_eq!(
        buttons::legacy_mask(buttons::FORWARD | buttons::BACK | buttons::LEFT),
        0x81
    );
}
