//go:build integration

package screens

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"sort"
	"testing"
)

// shrinkPNG re-encodes a screenshot as a paletted PNG with the best compression, so the
// committed docs/screens stay small. The screens are flat colours: the 256 most frequent
// colours keep them sharp, and the rare anti-aliasing shades map to their nearest.
func shrinkPNG(t testing.TB, in []byte) []byte {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(in))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	b := img.Bounds()
	freq := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			freq[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	colors := make([]color.RGBA, 0, len(freq))
	for c := range freq {
		colors = append(colors, c)
	}
	sort.Slice(colors, func(i, j int) bool {
		if freq[colors[i]] != freq[colors[j]] {
			return freq[colors[i]] > freq[colors[j]]
		}
		return rgbKey(colors[i]) < rgbKey(colors[j])
	})
	if len(colors) > 256 {
		colors = colors[:256]
	}
	pal := make(color.Palette, len(colors))
	for i, c := range colors {
		pal[i] = c
	}
	out := image.NewPaletted(image.Rect(0, 0, b.Dx(), b.Dy()), pal)
	nearest := map[color.RGBA]uint8{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			i, ok := nearest[c]
			if !ok {
				i = uint8(pal.Index(c))
				nearest[c] = i
			}
			out.Pix[(y-b.Min.Y)*out.Stride+(x-b.Min.X)] = i
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, out); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return buf.Bytes()
}

func rgbKey(c color.RGBA) uint32 {
	return uint32(c.R)<<24 | uint32(c.G)<<16 | uint32(c.B)<<8 | uint32(c.A)
}
