//! `Screenshot`: an immutable RGBA snapshot that numpy and Pillow can read without copying.

use std::ffi::c_int;

use pyo3::exceptions::{PyBufferError, PyIndexError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// An immutable RGBA8 picture: `width`, `height`, `bytes(img)` = rows top to bottom, 4 bytes
/// per pixel (R, G, B, A=255). Supports the buffer protocol (read-only, one byte per item):
/// `numpy.frombuffer(img, numpy.uint8).reshape(img.height, img.width, 4)` and
/// `PIL.Image.frombuffer("RGBA", img.size, img, "raw", "RGBA", 0, 1)` share its memory.
#[pyclass(module = "rfb", frozen)]
pub(crate) struct Screenshot {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl Screenshot {
    pub(crate) fn new(width: u32, height: u32, data: Vec<u8>) -> Self {
        Self {
            width,
            height,
            data,
        }
    }
}

#[pymethods]
impl Screenshot {
    /// Width in pixels.
    #[getter]
    fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    #[getter]
    fn height(&self) -> u32 {
        self.height
    }

    /// `(width, height)`.
    #[getter]
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Bytes per row (width × 4).
    #[getter]
    fn stride(&self) -> usize {
        self.width as usize * 4
    }

    /// The pixel at (x, y) as `(r, g, b, a)`.
    fn pixel(&self, x: u32, y: u32) -> PyResult<(u8, u8, u8, u8)> {
        if x >= self.width || y >= self.height {
            return Err(PyIndexError::new_err(format!(
                "({x}, {y}) is outside the {}x{} picture",
                self.width, self.height
            )));
        }
        let i = (y as usize * self.width as usize + x as usize) * 4;
        let p = &self.data[i..i + 4];
        Ok((p[0], p[1], p[2], p[3]))
    }

    /// The pixels as RGB (3 bytes per pixel, no alpha), e.g. for a PPM.
    fn rgb<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let rgb: Vec<u8> = self
            .data
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        PyBytes::new(py, &rgb)
    }

    /// Writes a binary PPM (P6) file.
    fn save_ppm(&self, path: std::path::PathBuf) -> PyResult<()> {
        let mut out = format!("P6\n{} {}\n255\n", self.width, self.height).into_bytes();
        out.extend(self.data.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]));
        std::fs::write(path, out)?;
        Ok(())
    }

    fn __bytes__<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.data)
    }

    fn __len__(&self) -> usize {
        self.data.len()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Self>().is_ok_and(|o| {
            let o = o.get();
            o.width == self.width && o.height == self.height && o.data == self.data
        })
    }

    fn __repr__(&self) -> String {
        format!("<rfb.Screenshot {}x{} RGBA>", self.width, self.height)
    }

    /// Read-only buffer over the pixel bytes (format "B"); the object stays alive while a
    /// view exists, and it is frozen, so the memory never changes or moves.
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut pyo3::ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        if view.is_null() {
            return Err(PyBufferError::new_err("view is NULL"));
        }
        if flags & pyo3::ffi::PyBUF_WRITABLE == pyo3::ffi::PyBUF_WRITABLE {
            return Err(PyBufferError::new_err("a Screenshot is read-only"));
        }
        let data = &slf.get().data;
        let len = pyo3::ffi::Py_ssize_t::try_from(data.len())
            .map_err(|_| PyBufferError::new_err("picture too large"))?;
        // SAFETY: `view` is the caller's Py_buffer; the data belongs to a frozen object that
        // PyBuffer_FillInfo keeps alive (it takes a reference in view->obj) until release.
        let rc = unsafe {
            pyo3::ffi::PyBuffer_FillInfo(
                view,
                slf.as_ptr(),
                data.as_ptr().cast_mut().cast(),
                len,
                1,
                flags,
            )
        };
        if rc == -1 {
            return Err(PyErr::fetch(slf.py()));
        }
        Ok(())
    }
}
