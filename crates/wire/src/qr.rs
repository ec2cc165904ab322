//! A QR code as an `<svg>` element to put inline in HTML, or as a PNG
//! image for e-mail (mail programs rarely draw SVG): black on white, with
//! the quiet zone scanners need. Pure computation, no I/O.

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

/// Why a QR image could not be drawn.
#[derive(Debug)]
pub enum PngError {
    Qr(qrcode::types::QrError),
    Png(png::EncodingError),
}

impl std::fmt::Display for PngError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Qr(e) => write!(f, "QR code: {e}"),
            Self::Png(e) => write!(f, "PNG: {e}"),
        }
    }
}

impl std::error::Error for PngError {}

/// Draws `payload` as a grey-scale PNG, `module_px` pixels per module,
/// with a four-module quiet zone.
pub fn png(payload: &str, module_px: u32) -> Result<Vec<u8>, PngError> {
    const QUIET: usize = 4;
    let code = qrcode::QrCode::new(payload.as_bytes()).map_err(PngError::Qr)?;
    let modules = code.width();
    let dark = code.to_colors();
    let scale = module_px.max(1) as usize;
    let side = (modules + 2 * QUIET) * scale;
    let mut pixels = vec![0xff_u8; side * side];
    for (i, color) in dark.iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let (x, y) = ((i % modules + QUIET) * scale, (i / modules + QUIET) * scale);
        for row in y..y + scale {
            pixels[row * side + x..row * side + x + scale].fill(0);
        }
    }
    let mut out = Vec::new();
    let side = u32::try_from(side).expect("a QR image fits in u32");
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(PngError::Png)?;
    writer.write_image_data(&pixels).map_err(PngError::Png)?;
    writer.finish().map_err(PngError::Png)?;
    Ok(out)
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

    #[test]
    fn a_png_with_dark_modules_and_a_white_quiet_zone() {
        let png = super::png("MLEG1.00112233445566778899aabbccddeeff", 4).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        let side = info.width as usize;
        assert_eq!(info.width, info.height);
        // Version 3 (29 modules) plus the quiet zone, 4 px each.
        assert_eq!(side, (29 + 8) * 4);
        // The quiet zone is white; the finder pattern's corner is dark.
        assert!(pixels[..side * 16].iter().all(|&p| p == 0xff));
        assert_eq!(pixels[16 * side + 16], 0);
    }
}
