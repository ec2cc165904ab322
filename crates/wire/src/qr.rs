//! A QR code as an `<svg>` element to put inline in HTML: black on white,
//! with the quiet zone scanners need. Pure computation, no I/O.

/// Draws `payload` at least `min_size` pixels square.
pub fn inline_svg(payload: &str, min_size: u32) -> Result<String, qrcode::types::QrError> {
    use qrcode::render::svg::Color;
    let svg = qrcode::QrCode::new(payload.as_bytes())?
        .render::<Color<'_>>()
        .min_dimensions(min_size, min_size)
        .dark_color(Color("#000000"))
        .light_color(Color("#ffffff"))
        .quiet_zone(true)
        .build();
    // Drop the XML prolog; keep the <svg> element.
    Ok(svg
        .find("<svg")
        .map_or(svg.clone(), |start| svg[start..].to_owned()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_svg_element_of_the_payload() {
        let svg = super::inline_svg("MLEG1.00112233445566778899aabbccddeeff", 256).unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>") && svg.contains("#000000"));
        // A different payload draws a different code.
        assert_ne!(
            svg,
            super::inline_svg("MLEG1.ffeeddccbbaa99887766554433221100", 256).unwrap()
        );
    }
}
