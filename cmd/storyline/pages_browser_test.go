package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// pageFacts is what TestPagesInBrowser reads from a page's DOM.
type pageFacts struct {
	ScrollWidth int      `json:"scrollWidth"`
	Width       int      `json:"width"`
	Scripts     int      `json:"scripts"`
	BadImages   []string `json:"badImages"`
	Images      int      `json:"images"`
	Text        string   `json:"text"`
	Storylines  []string `json:"storylines"`
}

// factsJS runs in the page, through the DevTools protocol (the page
// itself runs no script): the width the content needs against the
// window's, script elements, images lacking a width, height or alt, the
// visible text, and the storylines' names.
const factsJS = `(() => ({
	scrollWidth: document.documentElement.scrollWidth,
	width: window.innerWidth,
	scripts: document.querySelectorAll('script').length,
	images: document.images.length,
	badImages: [...document.images].filter(i => !i.getAttribute('width') || !i.getAttribute('height') || !i.hasAttribute('alt')).map(i => i.src),
	text: document.body.innerText,
	storylines: [...document.querySelectorAll('article.storyline h2')].map(h => h.textContent.trim()),
}))()`

// TestPagesInBrowser loads the front page, a storyline's page and a
// search from `serve --demo` in headless Chromium at a desktop and a phone
// width, saves screenshots in a temporary directory (STORYLINE_SCREENSHOTS
// names another, to keep them), and checks the DOM: nothing wider than the
// phone's screen, every image with width, height and alt, no script
// element, and every storyline of the demo on the front page. Under
// CI=true a missing Chromium is a failure.
func TestPagesInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a daemon and a browser")
	}
	chromium := needTool(t, "chromium")
	d := demoDaemon(t)
	shots := os.Getenv("STORYLINE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	front := fetch(t, d.baseURL)
	_, rest, _ := strings.Cut(string(front), `<h2><a href="`+d.baseURL+`topics/`)
	topicID, _, _ := strings.Cut(rest, `"`)
	pages := map[string]string{"front": "", "topic": "topics/" + topicID, "search": "search?q=Kremlin"}
	for _, width := range []int64{1280, 390} {
		for name, path := range pages {
			if err := chromedp.Do(ctx,
				chromedp.EmulateViewport(width, 900),
				chromedp.Navigate(d.baseURL+path),
				chromedp.WaitReady("footer"),
			); err != nil {
				t.Fatalf("%s at %d px: %v", name, width, err)
			}
			facts, err := chromedp.Run(ctx, chromedp.Evaluate[pageFacts](factsJS))
			if err != nil {
				t.Fatalf("%s at %d px: %v", name, width, err)
			}
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(60))
			if err != nil {
				t.Fatalf("%s at %d px: screenshot: %v", name, width, err)
			}
			file := filepath.Join(shots, name+"-"+strconv.Itoa(int(width))+".jpg")
			if err := os.WriteFile(file, png, 0o644); err != nil {
				t.Fatal(err)
			}
			if facts.ScrollWidth > facts.Width {
				t.Errorf("%s at %d px scrolls sideways: content %d px wide", name, width, facts.ScrollWidth)
			}
			if facts.Scripts > 0 {
				t.Errorf("%s has %d script elements", name, facts.Scripts)
			}
			if len(facts.BadImages) > 0 {
				t.Errorf("%s: images without width, height or alt: %v", name, facts.BadImages)
			}
			if name == "front" {
				if facts.Images == 0 {
					t.Errorf("the front page shows no picture")
				}
				all := strings.Join(facts.Storylines, " | ")
				for _, want := range []string{"Geneva", "counter-proposal", "Kyiv", "Harrowfield Rovers", "Storm Maren", "Aster X9"} {
					if !strings.Contains(all, want) {
						t.Errorf("front page at %d px: no storyline about %s among %q", width, want, all)
					}
				}
			}
		}
	}
	t.Logf("screenshots in %s", shots)
}
