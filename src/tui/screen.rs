//! What the last frame drew where, recorded while drawing (in a `Cell`, as
//! gitui keeps its list sizes) so that clicks and paging use the real
//! layout instead of laying the screen out a second time.

/// The visible part of the current tab's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListArea {
    /// Screen line of the first data row (below the border and header).
    pub top: u16,
    /// Data rows that fit.
    pub rows: u16,
    /// Index of the item on the first data row.
    pub first: usize,
    /// Items in the list.
    pub len: usize,
}

/// The tab line's labels and the current list, as last drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScreenMap {
    /// Each tab label's first column and width on line 0.
    pub tabs: [(u16, u16); 7],
    pub list: Option<ListArea>,
}

impl ScreenMap {
    pub fn with_list(mut self, list: ListArea) -> ScreenMap {
        self.list = Some(list);
        self
    }

    /// The tab whose label covers column `x` of the tab line.
    pub fn tab_at(&self, x: u16) -> Option<usize> {
        self.tabs
            .iter()
            .position(|(start, w)| *w > 0 && x >= *start && x < start + w)
    }

    /// The list item drawn on screen line `y`, if any.
    pub fn row_at(&self, y: u16) -> Option<usize> {
        let l = self.list?;
        if y < l.top || y >= l.top + l.rows {
            return None;
        }
        let i = l.first + (y - l.top) as usize;
        (i < l.len).then_some(i)
    }

    /// Rows one page moves: what the list shows, or a guess before the first frame.
    pub fn page(&self) -> Option<usize> {
        self.list.map(|l| l.rows.max(1) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_found_only_inside_the_drawn_list() {
        let m = ScreenMap::default().with_list(ListArea {
            top: 3,
            rows: 10,
            first: 40,
            len: 45,
        });
        assert_eq!(m.row_at(2), None, "the header line");
        assert_eq!(m.row_at(3), Some(40));
        assert_eq!(m.row_at(7), Some(44));
        assert_eq!(m.row_at(8), None, "past the last item");
        assert_eq!(m.row_at(13), None, "below the list");
    }

    #[test]
    fn a_tab_is_found_by_its_label() {
        let mut m = ScreenMap::default();
        m.tabs[0] = (0, 12);
        m.tabs[1] = (12, 9);
        assert_eq!(m.tab_at(0), Some(0));
        assert_eq!(m.tab_at(12), Some(1));
        assert_eq!(m.tab_at(21), None);
    }
}
