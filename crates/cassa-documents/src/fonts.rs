//! Titillium Web, the typeface of Italian public administration sites
//! (SIL Open Font License, see fonts/OFL.txt), embedded in the binary and
//! subset into each PDF.

pub const REGULAR: &[u8] = include_bytes!("../fonts/TitilliumWeb-Regular.ttf");
pub const SEMIBOLD: &[u8] = include_bytes!("../fonts/TitilliumWeb-SemiBold.ttf");
pub const BOLD: &[u8] = include_bytes!("../fonts/TitilliumWeb-Bold.ttf");
