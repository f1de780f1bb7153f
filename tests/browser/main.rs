//! Browser tests: a real headless Chromium driven through chromedriver (fantoccini).
